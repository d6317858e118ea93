// SPDX-License-Identifier: Apache-2.0
// Session affinity end to end: under round robin a client keeps its backend while it
// connects again within the timeout; a drained backend loses its clients to a new pick that
// then sticks; an idle client past the timeout gets the next round-robin pick.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/bound_client.h"
#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kConnects = 10;
constexpr milliseconds kFlipTimeout(10000);
const std::string kClientA = "127.1.0.1";
const std::string kClientB = "127.1.0.2";

// The single name every one of `names` carries, or "mixed:<names>" when they differ.
std::string sameName(const std::string& names) {
  auto list = splitNames(names);
  std::set<std::string> distinct(list.begin(), list.end());
  if (list.empty() || distinct.size() != 1) {
    return "mixed:" + names;
  }
  return list.front();
}

class AffinityTest : public AgentTest {
 protected:
  void startWeb(int64_t timeout_seconds) {
    for (const char* name : {"b1", "b2", "b3"}) {
      auto& server = tcpServer(name);
      by_name_[name] = &server;
      backends_.push_back(backendOf(server));
    }
    config_ = sandbox_.baseConfig();
    ServiceSpec web{"web", "10.96.0.10", 80, "tcp", "round_robin", backends_};
    web.affinity_timeout_seconds = timeout_seconds;
    config_.services.push_back(web);
    ASSERT_NO_FATAL_FAILURE(startAgent(config_));
  }

  // `connects` connects from `source` (empty: unbound, the namespace is the client), with
  // `gap` between them; the names, space-separated.
  std::string connects(const std::string& source, int connects,
                       milliseconds gap = milliseconds(0)) {
    Endpoint vip = vip_;
    return runClient(sandbox_.procsFile(), [=] {
      std::vector<std::string> names;
      for (int i = 0; i < connects; ++i) {
        if (i > 0) {
          std::this_thread::sleep_for(gap);
        }
        names.push_back(fetchNameFrom(source, 0, vip));
      }
      return joinNames(names);
    });
  }

  std::string addrOf(const std::string& name) {
    return "127.0.0.1:" + std::to_string(by_name_.at(name)->port());
  }

  CommandResult api(std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", config_.api_socket});
    return sandbox_.weftctl(args);
  }

  // Polls until the backends in state "active" are exactly `names` (a draining backend may
  // be listed too, in another state).
  void expectActive(std::vector<std::string> names) {
    std::vector<std::string> want;
    for (const std::string& name : names) {
      want.push_back(addrOf(name));
    }
    std::sort(want.begin(), want.end());
    auto deadline = Clock::now() + kFlipTimeout;
    std::vector<std::string> seen;
    while (Clock::now() < deadline) {
      seen.clear();
      for (const BackendRow& row :
           sandbox_.backendList("web").value_or(std::vector<BackendRow>{})) {
        if (row.state == "active") {
          seen.push_back(row.endpoint());
        }
      }
      std::sort(seen.begin(), seen.end());
      if (seen == want) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "active backends: " << joinNames(seen) << "; want " << joinNames(want);
  }

  // Polls `service list -o json` until web's affinity timeout is `seconds`.
  void expectAffinity(int seconds) {
    auto deadline = Clock::now() + kFlipTimeout;
    std::string last;
    while (Clock::now() < deadline) {
      CommandResult r = sandbox_.weftctl({"-o", "json", "service", "list"});
      last = r.out + r.err;
      json doc = json::parse(r.out, nullptr, false);
      if (doc.is_array() && doc.size() == 1 && doc[0].is_object() &&
          doc[0].value("affinity_timeout_seconds", -1) == seconds) {
        return;
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
    FAIL() << "affinity_timeout_seconds never became " << seconds << "; last: " << last;
  }

  // Backend names in the order weftctl lists them (slot order).
  std::vector<std::string> slotOrder() {
    std::vector<std::string> out;
    for (const BackendRow& row : sandbox_.backendList("web").value_or(std::vector<BackendRow>{})) {
      for (const auto& [name, server] : by_name_) {
        if (row.port == server->port()) {
          out.push_back(name);
        }
      }
    }
    return out;
  }

  AgentConfig config_;
  std::vector<BackendSpec> backends_;
  std::map<std::string, TcpNameServer*> by_name_;
  Endpoint vip_ = endpoint("10.96.0.10", 80);
};

TEST_F(AffinityTest, ClientsKeepTheirBackendUntilItIsDrained) {
  ASSERT_NO_FATAL_FAILURE(startWeb(30));

  // Without affinity round robin would rotate over all three.
  std::string unbound = sameName(connects("", kConnects));
  std::string a = sameName(connects(kClientA, kConnects));
  std::string b = sameName(connects(kClientB, kConnects));
  ASSERT_TRUE(by_name_.count(unbound)) << unbound;
  ASSERT_TRUE(by_name_.count(a)) << a;
  ASSERT_TRUE(by_name_.count(b)) << b;
  // Affinity hits leave the round-robin counter alone: three first picks, three backends.
  EXPECT_EQ((std::set<std::string>{unbound, a, b}.size()), 3u)
      << "unbound=" << unbound << " A=" << a << " B=" << b;

  // Draining A's backend sends A elsewhere, and the new pick sticks.
  CommandResult drain = api({"backend", "drain", "web", addrOf(a)});
  ASSERT_EQ(drain.exit_code, 0) << drain.out << drain.err;
  std::vector<std::string> rest;
  for (const auto& [name, server] : by_name_) {
    if (name != a) {
      rest.push_back(name);
    }
  }
  ASSERT_NO_FATAL_FAILURE(expectActive(rest));
  std::string a_moved = sameName(connects(kClientA, kConnects));
  EXPECT_NE(a_moved, a);
  EXPECT_TRUE(by_name_.count(a_moved)) << a_moved;
  if (b != a) {
    EXPECT_EQ(sameName(connects(kClientB, kConnects)), b);
  }

  // Undrained, the old backend is usable again, but A stays where it is now.
  CommandResult undrain = api({"backend", "undrain", "web", addrOf(a)});
  ASSERT_EQ(undrain.exit_code, 0) << undrain.out << undrain.err;
  ASSERT_NO_FATAL_FAILURE(expectActive({"b1", "b2", "b3"}));
  EXPECT_EQ(sameName(connects(kClientA, kConnects)), a_moved);
}

TEST_F(AffinityTest, AnIdleClientPastTheTimeoutGetsTheNextRoundRobinPick) {
  ASSERT_NO_FATAL_FAILURE(startWeb(1));
  std::vector<std::string> order = slotOrder();
  ASSERT_EQ(order.size(), 3u) << joinNames(order);

  // Each connect within the 1 s timeout refreshes it: 2.4 s in all, one backend.
  std::string kept = connects("", 5, milliseconds(600));
  std::string first = sameName(kept);
  ASSERT_TRUE(by_name_.count(first)) << kept;

  std::this_thread::sleep_for(milliseconds(2500));
  // Round robin picks again; the hits above never advanced its counter.
  std::string after = sameName(connects("", 3));
  EXPECT_NE(after, first);
  auto at = std::find(order.begin(), order.end(), first);
  ASSERT_NE(at, order.end());
  std::string next = order[(static_cast<size_t>(at - order.begin()) + 1) % order.size()];
  EXPECT_EQ(after, next) << "slot order " << joinNames(order);
}

TEST_F(AffinityTest, WeftctlTurnsAffinityOnAndOffForARegistryService) {
  config_ = sandbox_.baseConfig();
  ASSERT_NO_FATAL_FAILURE(startAgent(config_));
  for (const char* name : {"b1", "b2", "b3"}) {
    by_name_[name] = &tcpServer(name);
  }
  // The first VIP of the range: the only service of the test gets it.
  vip_ = endpoint("10.96.0.1", 80);
  CommandResult r = api({"service", "register", "web", "--port", "80"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [name, server] : by_name_) {
    r = api({"endpoint", "register", "web", "--host", server->ip(), "--port",
             std::to_string(server->port())});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  ASSERT_NO_FATAL_FAILURE(expectActive({"b1", "b2", "b3"}));

  r = api({"service", "set-affinity", "web", "30"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "service default/web: session affinity 30s idle timeout\n");
  ASSERT_NO_FATAL_FAILURE(expectAffinity(30));
  std::string kept = connects("", kConnects);
  EXPECT_TRUE(by_name_.count(sameName(kept))) << kept;

  r = api({"service", "set-affinity", "web", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "service default/web: session affinity off\n");
  ASSERT_NO_FATAL_FAILURE(expectAffinity(0));
  EXPECT_EQ(runClient(sandbox_.procsFile(), [this] { return countNames(vip_, 9); }),
            "b1=3 b2=3 b3=3");

  // Out of range: refused (weftctl checks the range itself), naming the value.
  r = api({"service", "set-affinity", "web", "86401"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("86401"), std::string::npos) << r.err;
  ASSERT_NO_FATAL_FAILURE(expectAffinity(0));
}

}  // namespace
}  // namespace weft::e2e
