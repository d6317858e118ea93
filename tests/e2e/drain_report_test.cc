// SPDX-License-Identifier: Apache-2.0
// Drain as operators see it: weftctl lists a drained backend as "draining" with its live
// connection count while established connections remain, "drained" once they closed, and
// "active" again after undrain; new connects avoid it throughout.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr milliseconds kReplyTimeout(3000);
constexpr milliseconds kStateTimeout(10000);
constexpr int kHeld = 4;

// "state/active_connections" per "127.0.0.1:port" from `weftctl backend list SERVICE -o json`,
// plus the raw answer for failure messages.
struct Report {
  std::map<std::string, std::string> rows;
  std::string raw;
};

class DrainReportTest : public AgentTest {
 protected:
  Report report() {
    Report out;
    CommandResult r = sandbox_.weftctl({"-o", "json", "backend", "list", "web"});
    out.raw = r.out + r.err;
    json doc = json::parse(r.out, nullptr, false);
    if (r.exit_code != 0 || !doc.is_array()) {
      return out;
    }
    for (const json& row : doc) {
      if (!row.is_object()) {
        continue;
      }
      std::string key = row.value("address", "") + ":" + std::to_string(row.value("port", 0u));
      // A backend listed twice (once per slot) must agree with itself.
      std::string value = row.value("state", "?") + "/" +
                          std::to_string(row.value("active_connections", uint64_t{9999}));
      auto [it, fresh] = out.rows.emplace(key, value);
      if (!fresh && it->second != value) {
        it->second += "|" + value;
      }
    }
    return out;
  }

  // Polls until the report equals `want`; fails the test with the last answer otherwise.
  void expectReport(const std::map<std::string, std::string>& want) {
    auto deadline = Clock::now() + kStateTimeout;
    Report seen;
    while (Clock::now() < deadline) {
      seen = report();
      if (seen.rows == want) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    std::string wanted;
    for (const auto& [k, v] : want) {
      wanted += k + "=" + v + " ";
    }
    FAIL() << "want " << wanted << "\nlast weftctl answer: " << seen.raw;
  }

  CommandResult api(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", config_.api_socket});
    return sandbox_.weftctl(args);
  }

  AgentConfig config_;
};

std::string addrOf(const TcpNameServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

TEST_F(DrainReportTest, DrainingShowsLiveConnectionsThenDrainedThenActiveAgain) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  config_ = sandbox_.baseConfig();
  config_.services.push_back(
      {"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1), backendOf(b2)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config_));
  Endpoint vip = endpoint("10.96.0.10", 80);
  std::string b1_addr = addrOf(b1);
  std::string b2_addr = addrOf(b2);

  // Holds kHeld connections (round robin: two on each); on "echo" checks each still echoes,
  // on "close" closes the ones to b1.
  MeshClient holder = MeshClient::start(sandbox_.procsFile(), [vip](Channel& channel) {
    std::vector<std::pair<std::string, UniqueFd>> held;
    std::vector<std::string> names;
    for (int i = 0; i < kHeld; ++i) {
      UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      int err = connectWithin(fd.get(), vip, kReplyTimeout);
      std::string name = err == 0 ? recvLine(fd.get(), kReplyTimeout).value_or("error:recv")
                                  : "error:" + errnoName(err);
      names.push_back(name);
      held.emplace_back(name, std::move(fd));
    }
    std::sort(names.begin(), names.end());
    std::string all;
    for (const std::string& n : names) {
      all += n + " ";
    }
    channel.send(all);
    for (int step = 0; step < 4; ++step) {
      auto cmd = channel.receive(milliseconds(30000));
      if (!cmd || *cmd == "done") {
        return;
      }
      std::vector<std::string> echoes;
      for (auto& [name, fd] : held) {
        if (*cmd == "echo" && fd.valid()) {
          bool sent = sendAll(fd.get(), "ping\n");
          echoes.push_back(name + ":" +
                           (sent ? recvLine(fd.get(), kReplyTimeout).value_or("none") : "send"));
        } else if (*cmd == "close" && name == "b1") {
          fd.reset();
        }
      }
      std::sort(echoes.begin(), echoes.end());
      std::string out;
      for (const std::string& e : echoes) {
        out += e + " ";
      }
      channel.send(*cmd == "close" ? "closed" : out);
    }
  });
  ASSERT_GT(holder.pid(), 0);
  ASSERT_EQ(holder.channel().receive(milliseconds(20000)), "b1 b1 b2 b2 ");
  ASSERT_NO_FATAL_FAILURE(expectReport({{b1_addr, "active/2"}, {b2_addr, "active/2"}}));

  CommandResult drain = api({"backend", "drain", "web", b1_addr});
  ASSERT_EQ(drain.exit_code, 0) << drain.out << drain.err;
  ASSERT_NO_FATAL_FAILURE(expectReport({{b1_addr, "draining/2"}, {b2_addr, "active/2"}}));

  uint64_t b1_accepted = b1.accepted();
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 10); }), "b2=10");
  EXPECT_EQ(b1.accepted(), b1_accepted);

  ASSERT_TRUE(holder.channel().send("echo"));
  EXPECT_EQ(holder.channel().receive(milliseconds(20000)), "b1:ping b1:ping b2:ping b2:ping ");

  ASSERT_TRUE(holder.channel().send("close"));
  ASSERT_EQ(holder.channel().receive(milliseconds(20000)), "closed");
  // The count falls when the kernel moves each socket to TCP_CLOSE, a moment after close().
  ASSERT_NO_FATAL_FAILURE(expectReport({{b1_addr, "drained/0"}, {b2_addr, "active/2"}}));

  CommandResult undrain = api({"backend", "undrain", "web", b1_addr});
  ASSERT_EQ(undrain.exit_code, 0) << undrain.out << undrain.err;
  ASSERT_NO_FATAL_FAILURE(expectReport({{b1_addr, "active/0"}, {b2_addr, "active/2"}}));
  std::string spread = runClient(sandbox_.procsFile(), [&] { return countNames(vip, 4); });
  EXPECT_EQ(spread, "b1=2 b2=2");

  holder.channel().send("done");
  EXPECT_TRUE(holder.wait(milliseconds(10000)));
}

}  // namespace
}  // namespace weft::e2e
