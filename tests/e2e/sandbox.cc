// SPDX-License-Identifier: Apache-2.0
// Per-test sandbox: setup, weftd and weftctl plumbing, teardown in a safe order.
#include "tests/e2e/sandbox.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/e2e/sockets.h"

namespace weft::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kBpffsBase = "/sys/fs/bpf/";
// Pins are only ever removed under this prefix: a bug here must not be able to
// wipe another user's bpffs tree.
constexpr const char* kBpffsTestPrefix = "/sys/fs/bpf/weft-test-";
constexpr milliseconds kPollInterval(20);

std::atomic<int> g_sandbox_count{0};

std::string weftd() {
  return std::string(WEFT_BIN_DIR) + "/weftd";
}
std::string weftctlPath() {
  return std::string(WEFT_BIN_DIR) + "/weftctl";
}

std::string makeName() {
  return "weft-test-" + std::to_string(::getpid()) + "-" + std::to_string(++g_sandbox_count);
}

}  // namespace

std::string BackendRow::endpoint() const {
  auto ep = Endpoint::parse(address, static_cast<uint16_t>(port));
  return ep ? ep->str() : address + ":" + std::to_string(port);
}

Sandbox::Sandbox() : name_(makeName()), cgroup_(name_), bpffs_root_(kBpffsBase + name_) {
  if (cgroup_.path().empty()) {
    setup_error_ = "cannot create cgroup " + name_ + " under " + cgroup2Mount();
    return;
  }
  char tmpl[] = "/tmp/weft-e2e-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    setup_error_ = "cannot create a temp dir";
    return;
  }
  temp_dir_ = tmpl;
  config_path_ = temp_dir_ + "/weftd.yaml";
  log_path_ = temp_dir_ + "/weftd.log";
}

Sandbox::~Sandbox() {
  teardown();
}

void Sandbox::teardown() {
  agent_.stop();

  std::error_code ec;
  if (!config_path_.empty() && fs::exists(config_path_, ec)) {
    cleanupAgent();
  }
  if (bpffs_root_.rfind(kBpffsTestPrefix, 0) == 0) {
    fs::remove_all(bpffs_root_, ec);
  }
  cgroup_.remove();
  if (!temp_dir_.empty()) {
    fs::remove_all(temp_dir_, ec);
  }
}

AgentConfig Sandbox::baseConfig() const {
  AgentConfig config;
  config.cgroup = cgroup_.path();
  config.bpffs_root = bpffs_root_;
  config.registry_path = temp_dir_ + "/registry.db";
  config.api_socket = temp_dir_ + "/weftd.sock";
  return config;
}

bool Sandbox::writeConfig(const AgentConfig& config) {
  return writeRawConfig(renderYaml(config));
}

bool Sandbox::writeRawConfig(const std::string& yaml) {
  std::string tmp = config_path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << yaml;
    if (!out.flush()) {
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, config_path_, ec);
  return !ec;
}

bool Sandbox::startAgent() {
  std::vector<std::string> argv = prefix_;
  argv.insert(argv.end(), {weftd(), "--config", config_path_});
  agent_ = Subprocess::spawn(argv, log_path_);
  return agent_.pid() > 0;
}

CommandResult Sandbox::weftctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = prefix_;
  argv.insert(argv.end(), {weftctlPath(), "--bpffs-root", bpffs_root_});
  argv.insert(argv.end(), args.begin(), args.end());
  return runCommand(argv);
}

CommandResult Sandbox::cleanupAgent() {
  return runCommand({weftd(), "--cleanup", "--config", config_path_}, milliseconds(15000));
}

CommandResult Sandbox::runSecondAgent(milliseconds timeout) {
  std::vector<std::string> argv = prefix_;
  argv.insert(argv.end(), {weftd(), "--config", config_path_});
  return runCommand(argv, timeout);
}

std::optional<std::vector<BackendRow>> Sandbox::backendList(const std::string& service) {
  CommandResult r = weftctl({"-o", "json", "backend", "list", service});
  if (r.exit_code != 0) {
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (!doc.is_array()) {
    return std::nullopt;
  }
  std::vector<BackendRow> rows;
  for (const auto& item : doc) {
    if (!item.is_object()) {
      return std::nullopt;
    }
    BackendRow row;
    row.service = item.value("service", "");
    row.backend_id = item.value("backend_id", 0u);
    row.address = item.value("address", "");
    row.port = item.value("port", 0u);
    row.protocol = item.value("protocol", "");
    row.state = item.value("state", "");
    rows.push_back(row);
  }
  return rows;
}

bool Sandbox::serviceHasBackendCount(const std::string& service, int backends) {
  CommandResult r = weftctl({"-o", "json", "service", "list"});
  if (r.exit_code != 0) {
    return false;
  }
  auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (!doc.is_array()) {
    return false;
  }
  return std::any_of(doc.begin(), doc.end(), [&](const nlohmann::json& item) {
    // Config services live in the registry's default namespace: "<name>.default".
    std::string name = item.is_object() ? item.value("name", "") : "";
    return (name == service || name == service + ".default") &&
           item.value("backends", -1) == backends;
  });
}

bool Sandbox::waitForBackends(const std::string& service, std::vector<std::string> expected,
                              milliseconds timeout, std::string* last) {
  std::sort(expected.begin(), expected.end());
  auto deadline = Clock::now() + timeout;
  // Bounded by the deadline; each round costs one or two weftctl runs.
  while (true) {
    auto rows = backendList(service);
    std::vector<std::string> seen;
    if (rows) {
      for (const BackendRow& row : *rows) {
        // Drained backends stay listed while they hold connections; they take no new ones.
        if (row.state != "draining" && row.state != "drained") {
          seen.push_back(row.endpoint());
        }
      }
      std::sort(seen.begin(), seen.end());
    }
    bool listed = rows.has_value() && (!expected.empty() || serviceHasBackendCount(service, 0));
    if (listed && seen == expected) {
      return true;
    }
    if (Clock::now() >= deadline) {
      if (last) {
        std::ostringstream out;
        out << (rows ? "backends:" : "weftctl failed");
        for (const std::string& s : seen) {
          out << " " << s;
        }
        *last = out.str();
      }
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

bool Sandbox::waitForLog(const std::string& needle, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (logText().find(needle) == std::string::npos) {
    if (Clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return true;
}

std::string Sandbox::logText() const {
  std::ifstream in(log_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace weft::e2e
