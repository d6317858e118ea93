// SPDX-License-Identifier: Apache-2.0
// Live edits through weftctl and the registry, end to end: an exact canary split, a
// blue-green switch that leaves established connections alone, drain and weight 0, and all
// of it surviving an agent restart.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"
#include "tests/e2e/servers.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

constexpr milliseconds kReplyTimeout(3000);
constexpr milliseconds kFlipTimeout(10000);

std::string addr(const TcpNameServer& server) {
  return "127.0.0.1:" + std::to_string(server.port());
}

// A mesh client that holds a connection the balancer sent to `want` and says "open"; on "go"
// it answers {"echo": the held connection's reply to a ping, "new": `connects` new connects
// counted by backend}.
MeshClient holdThenConnect(const std::string& procs, Endpoint vip, std::string want, int connects) {
  return MeshClient::start(procs, [vip, want, connects](Channel& channel) {
    UniqueFd held = tcpTo(vip, want);
    channel.send(held.valid() ? "open" : "failed");
    if (!channel.receive(milliseconds(30000))) {
      return;
    }
    json out;
    out["echo"] = sendAll(held.get(), "ping\n") ? recvLine(held.get(), kReplyTimeout).value_or("")
                                                : "error:send";
    out["new"] = countNames(vip, connects);
    channel.send(out.dump());
  });
}

// Sends "go" to a holdThenConnect() client and returns its report (null when none came).
json reportOf(MeshClient& client) {
  if (!client.channel().send("go")) {
    return nullptr;
  }
  auto raw = client.channel().receive(milliseconds(30000));
  return raw ? json::parse(*raw, nullptr, false) : json();
}

class LiveEditTest : public AgentTest {
 protected:
  void startRegistryAgent() {
    config_ = sandbox_.baseConfig();
    ASSERT_NO_FATAL_FAILURE(startAgent(config_));
    ASSERT_TRUE(sandbox_.waitForLog("agent ready", milliseconds(10000))) << sandbox_.logText();
  }

  // SIGTERM, then the same config and registry file again; waits until the API answers.
  void restartAgent() {
    ASSERT_EQ(sandbox_.agent().stop(), 0);
    ASSERT_TRUE(sandbox_.startAgent());
    CommandResult show;
    for (int i = 0; i < 200 && show.exit_code != 0; ++i) {
      show = api({"service", "show", "web"});
      std::this_thread::sleep_for(milliseconds(show.exit_code == 0 ? 0 : 50));
    }
    ASSERT_EQ(show.exit_code, 0) << show.err << sandbox_.logText();
  }

  CommandResult api(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", config_.api_socket});
    return sandbox_.weftctl(args);
  }

  // Runs a weftctl API command and fails the test unless it succeeds.
  void ok(const std::vector<std::string>& args) {
    CommandResult r = api(args);
    ASSERT_EQ(r.exit_code, 0) << joinArgs(args) << "\n" << r.out << r.err;
  }

  void registerWeb() {
    ASSERT_NO_FATAL_FAILURE(ok({"service", "register", "web", "--port", "80"}));
  }

  void registerEndpoint(const TcpNameServer& server, const std::string& version) {
    ASSERT_NO_FATAL_FAILURE(ok({"endpoint", "register", "web", "--host", server.ip(), "--port",
                                std::to_string(server.port()), "--version", version}));
  }

  void expectBackends(std::vector<std::string> expected) {
    std::string last;
    ASSERT_TRUE(sandbox_.waitForBackends("web", std::move(expected), kFlipTimeout, &last))
        << last << sandbox_.logText();
  }

  std::string spread(int connects) {
    return runClient(sandbox_.procsFile(), [&] { return countNames(vip_, connects); });
  }

  AgentConfig config_;
  // The first VIP of the range: the only service of each test gets it.
  Endpoint vip_ = endpoint("10.96.0.1", 80);
};

TEST_F(LiveEditTest, CanarySplitIsExactAndSurvivesARestart) {
  ASSERT_NO_FATAL_FAILURE(startRegistryAgent());
  auto& v1 = tcpServer("v1");
  auto& v2 = tcpServer("v2");
  ASSERT_NO_FATAL_FAILURE(registerWeb());
  ASSERT_NO_FATAL_FAILURE(registerEndpoint(v1, "v1"));
  ASSERT_NO_FATAL_FAILURE(registerEndpoint(v2, "v2"));
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(v1), addr(v2)}));

  CommandResult set = api({"split", "set", "web", "v1=75", "v2=25"});
  ASSERT_EQ(set.exit_code, 0) << set.err;
  EXPECT_EQ(set.out, "service default/web: split by version v1=75 v2=25\n");
  // 3:1 slots, taken in turn: exact over any multiple of four connects.
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(v1), addr(v1), addr(v1), addr(v2)}));
  EXPECT_EQ(spread(400), "v1=300 v2=100");

  json shown = json::parse(api({"-o", "json", "service", "show", "web"}).out, nullptr, false);
  EXPECT_EQ(shown["split"]["subsets"][1]["percent"], 25) << shown.dump();

  ASSERT_NO_FATAL_FAILURE(restartAgent());
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(v1), addr(v1), addr(v1), addr(v2)}));
  EXPECT_EQ(spread(400), "v1=300 v2=100");

  // Bad splits are refused with the field named, and change nothing.
  CommandResult bad = api({"split", "set", "web", "v1=75", "v2=30"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "weftctl: split.subsets: percents add up to 105; they must add up to 100\n");
  bad = api({"split", "set", "web", "v1=lots"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.err, "weftctl: \"v1=lots\": percent \"lots\" is not an integer in 0..100\n");

  ok({"split", "clear", "web"});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(v1), addr(v2)}));
  EXPECT_EQ(spread(4), "v1=2 v2=2");
}

TEST_F(LiveEditTest, BlueGreenSwitchMovesNewConnectionsOnlyAndRollsBack) {
  ASSERT_NO_FATAL_FAILURE(startRegistryAgent());
  auto& blue = tcpServer("blue");
  auto& green = tcpServer("green");
  ASSERT_NO_FATAL_FAILURE(registerWeb());
  ASSERT_NO_FATAL_FAILURE(registerEndpoint(blue, "blue"));
  ASSERT_NO_FATAL_FAILURE(registerEndpoint(green, "green"));
  ok({"split", "set", "web", "blue=100", "green=0"});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(blue)}));

  MeshClient client = holdThenConnect(sandbox_.procsFile(), vip_, "blue", 40);
  ASSERT_GT(client.pid(), 0);
  ASSERT_EQ(client.channel().receive(milliseconds(10000)), "open");
  uint64_t blue_before = blue.accepted();

  // One registry write; once weftctl returned and the maps show the flip, blue is done.
  ok({"split", "set", "web", "blue=0", "green=100"});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(green)}));
  json report = reportOf(client);
  EXPECT_EQ(report["echo"], "ping") << report.dump();
  EXPECT_EQ(report["new"], "green=40") << report.dump();
  EXPECT_EQ(blue.accepted(), blue_before);
  EXPECT_EQ(green.accepted(), 40u);

  // Rollback is the same single write.
  ok({"split", "set", "web", "blue=100", "green=0"});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(blue)}));
  EXPECT_EQ(spread(10), "blue=10");
}

TEST_F(LiveEditTest, DrainAndWeightZeroStopNewConnectionsAndSurviveARestart) {
  ASSERT_NO_FATAL_FAILURE(startRegistryAgent());
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  ASSERT_NO_FATAL_FAILURE(registerWeb());
  ASSERT_NO_FATAL_FAILURE(registerEndpoint(b1, "v1"));
  ASSERT_NO_FATAL_FAILURE(registerEndpoint(b2, "v1"));
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1), addr(b2)}));

  MeshClient client = holdThenConnect(sandbox_.procsFile(), vip_, "b2", 20);
  ASSERT_GT(client.pid(), 0);
  ASSERT_EQ(client.channel().receive(milliseconds(10000)), "open");
  uint64_t b2_before = b2.accepted();

  CommandResult drain = api({"backend", "drain", "web", addr(b2)});
  ASSERT_EQ(drain.exit_code, 0) << drain.err;
  EXPECT_EQ(drain.out, "endpoint " + addr(b2) + " of default/web: drained\n");
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1)}));
  json report = reportOf(client);
  EXPECT_EQ(report["echo"], "ping") << report.dump();
  EXPECT_EQ(report["new"], "b1=20") << report.dump();
  EXPECT_EQ(b2.accepted(), b2_before);

  CommandResult list = api({"endpoint", "list", "web"});
  EXPECT_NE(list.out.find("DRAINED"), std::string::npos) << list.out;
  json rows = json::parse(api({"-o", "json", "endpoint", "list", "web"}).out, nullptr, false);
  ASSERT_EQ(rows.size(), 2u);
  for (const json& row : rows) {
    EXPECT_EQ(row["drained"], row["id"] == addr(b2)) << rows.dump();
  }

  ASSERT_NO_FATAL_FAILURE(restartAgent());
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1)}));
  EXPECT_EQ(spread(10), "b1=10");

  ok({"backend", "undrain", "web", addr(b2)});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1), addr(b2)}));
  EXPECT_EQ(spread(4), "b1=2 b2=2");

  // Weight 0: no new connections, under round robin as under weighted.
  ok({"backend", "set-weight", "web", addr(b2), "0"});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1)}));
  uint64_t b2_at_zero = b2.accepted();
  EXPECT_EQ(spread(10), "b1=10");
  EXPECT_EQ(b2.accepted(), b2_at_zero);

  ok({"service", "set-algorithm", "web", "weighted"});
  ok({"backend", "set-weight", "web", addr(b2), "300"});
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1), addr(b2), addr(b2), addr(b2)}));
  ASSERT_NO_FATAL_FAILURE(restartAgent());
  ASSERT_NO_FATAL_FAILURE(expectBackends({addr(b1), addr(b2), addr(b2), addr(b2)}));
  EXPECT_EQ(spread(400), "b1=100 b2=300");

  CommandResult bad = api({"backend", "set-weight", "web", "127.0.0.1:1", "5"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("does not exist"), std::string::npos) << bad.err;
}

TEST_F(LiveEditTest, ConfigDeclaredBackendsKeepTheFilesWeight) {
  auto& b1 = tcpServer("b1");
  auto& b2 = tcpServer("b2");
  config_ = sandbox_.baseConfig();
  config_.services.push_back(
      {"cfg", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1), backendOf(b2)}});
  ASSERT_NO_FATAL_FAILURE(startAgent(config_));

  CommandResult r = api({"backend", "set-weight", "cfg", addr(b2), "0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "weftctl: weight: endpoint " + addr(b2) +
                       " of default/cfg is declared in weftd's config file (label "
                       "weft.io/source=config); change its weight there\n");
  r = api({"service", "set-algorithm", "cfg", "random"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("change its algorithm there"), std::string::npos) << r.err;

  // Drain is allowed and outlives a reload of the unchanged file.
  ok({"backend", "drain", "cfg", addr(b2)});
  std::string last;
  ASSERT_TRUE(sandbox_.waitForBackends("cfg", {addr(b1)}, kFlipTimeout, &last)) << last;
  ASSERT_TRUE(sandbox_.reloadAgent());
  ASSERT_TRUE(sandbox_.waitForLog("SIGHUP", milliseconds(10000))) << sandbox_.logText();
  Endpoint vip = endpoint("10.96.0.10", 80);
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return countNames(vip, 6); }), "b1=6");
}

}  // namespace
}  // namespace weft::e2e
