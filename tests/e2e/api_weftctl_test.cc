// SPDX-License-Identifier: Apache-2.0
// The local API end to end: an ApiServer over a real SQLite registry on a unix socket in a
// temp dir, driven by the client library and by the weftctl binary. No BPF involved.
#include <stdlib.h>

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/process.h"
#include "userspace/api/api_server.h"
#include "userspace/api_client/api_client.h"
#include "userspace/registry/endpoint_usable.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class ApiWeftctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "weft-api-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    socket_ = dir_ + "/run/weftd.sock";

    auto store = registry::SqliteStore::open(dir_ + "/registry.db");
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(*store);
    registry_ = std::make_unique<registry::Registry>(
        *store_, std::vector<Cidr>{*Cidr::parse("10.96.0.0/16")}, wallClockMs);

    api::ApiOptions options;
    options.socket_path = socket_;
    server_ = std::make_unique<api::ApiServer>(io_, *registry_, health_, options);
    Status started = server_->start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    if (thread_.joinable()) {
      boost::asio::post(io_, [this] {
        server_->stop();
        work_.reset();
        io_.stop();
      });
      thread_.join();
    }
    server_.reset();
    registry_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  CommandResult weftctl(std::vector<std::string> args) {
    std::vector<std::string> argv = {std::string(WEFT_BIN_DIR) + "/weftctl", "--socket", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv);
  }

  // Runs weftctl with -o json, expects success, and parses what it printed.
  json weftctlJson(std::vector<std::string> args) {
    args.push_back("-o");
    args.push_back("json");
    CommandResult r = weftctl(args);
    EXPECT_EQ(r.exit_code, 0) << joinArgs(args) << "\n" << r.err;
    json out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << r.out;
    return out;
  }

  std::string dir_;
  std::string socket_;
  std::unique_ptr<registry::SqliteStore> store_;
  std::unique_ptr<registry::Registry> registry_;
  registry::AllHealthy health_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::unique_ptr<api::ApiServer> server_;
  std::thread thread_;
};

TEST_F(ApiWeftctlTest, RegisterListShowDeregisterThroughWeftctl) {
  CommandResult r =
      weftctl({"service", "register", "web", "--ns", "default", "--port", "80/tcp", "--port",
               "metrics:9090/tcp", "--label", "app=web", "--algorithm", "round_robin"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("vip: 10.96."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("metrics:9090/tcp"), std::string::npos) << r.out;

  r = weftctl({"endpoint", "register",     "web",        "--host",  "127.0.0.1",
               "--port",   "8081",         "--version",  "v1",      "--zone",
               "a",        "--weight",     "100",        "--label", "k=v",
               "--check",  "http:/health", "--interval", "1s",      "--timeout",
               "500ms",    "--ttl",        "30s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = weftctl({"endpoint", "register", "web", "--host", "127.0.0.2", "--port", "9090",
               "--port-name", "metrics"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  r = weftctl({"endpoint", "list", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("SERVING"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("127.0.0.1:8081"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("http:/health every 1s (timeout 500ms)"), std::string::npos) << r.out;

  json endpoints = weftctlJson({"endpoint", "list", "web"});
  ASSERT_EQ(endpoints.size(), 2u);
  EXPECT_EQ(endpoints[0]["id"], "127.0.0.1:8081");
  EXPECT_EQ(endpoints[0]["health"]["interval_ms"], 1000);
  EXPECT_EQ(endpoints[0]["health"]["timeout_ms"], 500);
  EXPECT_EQ(endpoints[0]["ttl_seconds"], 30);
  EXPECT_EQ(endpoints[0]["labels"]["k"], "v");
  EXPECT_EQ(endpoints[0]["healthy"], true);
  EXPECT_EQ(endpoints[1]["port_name"], "metrics");

  json shown = weftctlJson({"service", "show", "web"});
  EXPECT_EQ(shown["labels"]["app"], "web");
  EXPECT_EQ(shown["ports"].size(), 2u);
  EXPECT_EQ(shown["endpoints"].size(), 2u);

  r = weftctl({"endpoint", "heartbeat", "web", "127.0.0.1:8081"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = weftctl({"endpoint", "deregister", "web", "--host", "127.0.0.2", "--port", "9090"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(weftctlJson({"endpoint", "list", "web"}).size(), 1u);

  r = weftctl({"service", "deregister", "web"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = weftctl({"service", "show", "web"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "weftctl: service default/web does not exist\n");
}

TEST_F(ApiWeftctlTest, WeftctlPrintsTheServersErrorsAndChangesNothing) {
  ASSERT_EQ(weftctl({"service", "register", "web", "--port", "80"}).exit_code, 0);
  ASSERT_EQ(
      weftctl({"endpoint", "register", "web", "--host", "127.0.0.1", "--port", "8081"}).exit_code,
      0);
  auto before = registry_->snapshot();
  ASSERT_TRUE(before.ok());

  struct Case {
    std::vector<std::string> args;
    std::string message;  // part of stderr
  } cases[] = {
      {{"service", "register", "web", "--port", "81"}, "already exists"},
      {{"service", "register", "Bad_Name", "--port", "80"}, "name"},
      {{"service", "register", "x", "--port", "80", "--vip", "192.168.0.1"}, "vip"},
      {{"endpoint", "register", "web", "--host", "127.0.0.1", "--port", "8081"}, "already exists"},
      {{"endpoint", "register", "nope", "--host", "127.0.0.1", "--port", "1"}, "does not exist"},
      {{"endpoint", "register", "web", "--host", "0.0.0.0", "--port", "1"}, "host"},
      {{"endpoint", "register", "web", "--host", "127.0.0.1", "--port", "2", "--interval", "1x"},
       "--interval"},
      {{"endpoint", "register", "web", "--host", "127.0.0.1", "--port", "2", "--check", "http",
        "--interval", "1s", "--timeout", "2s"},
       "timeout"},
      {{"endpoint", "deregister", "web", "127.0.0.9:1"}, "does not exist"},
      {{"endpoint", "heartbeat", "web", "not-an-endpoint"}, "endpoint"},
      {{"service", "deregister", "nope"}, "does not exist"},
  };
  for (const Case& c : cases) {
    CommandResult r = weftctl(c.args);
    EXPECT_EQ(r.exit_code, 1) << joinArgs(c.args) << "\n" << r.out;
    EXPECT_EQ(r.err.rfind("weftctl: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << joinArgs(c.args) << ": " << r.err;
  }

  auto after = registry_->snapshot();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->services, before->services);
  EXPECT_EQ(after->endpoints, before->endpoints);
}

TEST_F(ApiWeftctlTest, ClientAndWeftctlSeeTheSameRegistry) {
  api::ApiClient client(api::ClientOptions{socket_, "", std::chrono::milliseconds(5000)});
  registry::Service web;
  web.name = "web";
  web.ports = {{"", 80, WEFT_PROTO_TCP}};
  auto registered = client.registerService(web);
  ASSERT_TRUE(registered.ok()) << registered.error().message;

  ASSERT_EQ(
      weftctl({"endpoint", "register", "web", "--host", "127.0.0.1", "--port", "8081"}).exit_code,
      0);
  ASSERT_EQ(
      weftctl({"endpoint", "register", "web", "--host", "127.0.0.1", "--port", "8082"}).exit_code,
      0);

  std::vector<std::string> picked;
  for (int i = 0; i < 4; i++) {
    auto endpoint = client.discover("default", "web");
    ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
    picked.push_back(endpoint->id());
  }
  EXPECT_EQ(picked, (std::vector<std::string>{"127.0.0.1:8081", "127.0.0.1:8082", "127.0.0.1:8081",
                                              "127.0.0.1:8082"}));

  json services = weftctlJson({"service", "show", "web"});
  EXPECT_EQ(services["vip"], registered->vip->toString());
  auto status = client.status();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ((*status)["endpoints"], 2);
}

TEST_F(ApiWeftctlTest, WeftctlWithoutAgentSaysSo) {
  std::vector<std::string> argv = {std::string(WEFT_BIN_DIR) + "/weftctl",
                                   "--socket",
                                   dir_ + "/missing.sock",
                                   "endpoint",
                                   "list",
                                   "web"};
  CommandResult r = runCommand(argv);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dir_ + "/missing.sock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is weftd running"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace weft::e2e
