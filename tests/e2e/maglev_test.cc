// SPDX-License-Identifier: Apache-2.0
// Maglev end to end: a thousand clients, each a distinct bound loopback address, keep their
// backend from pass to pass; removing or adding a backend moves about 1/N of them and
// (almost) only the ones that must move. UDP with hash_key client_addr_port tells the ports
// of one address apart.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/bound_client.h"
#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

constexpr int kClients = 1000;
constexpr int kUdpClients = 300;
constexpr uint16_t kUdpFirstPort = 20000;  // below the ephemeral range of the test's netns
// Maglev's minimal disruption is near-perfect, not perfect: a few table entries of the
// backends that stay may change owner when the set changes.
constexpr double kStrayShare = 0.01;
// Statistical slack over the expected 1/N of clients that move (4+ standard deviations).
constexpr double kMoveSlack = 1.3;
constexpr milliseconds kPassTimeout(60000);
// Below the ephemeral range, in the test's own network namespace: free.
constexpr uint16_t kFirstBackendPort = 18001;

using Assignment = std::vector<std::string>;

std::map<std::string, int> sharesOf(const Assignment& pass) {
  std::map<std::string, int> out;
  for (const std::string& name : pass) {
    ++out[name];
  }
  return out;
}

std::string describe(const std::map<std::string, int>& shares) {
  std::string out;
  for (const auto& [name, count] : shares) {
    out += (out.empty() ? "" : " ") + name + "=" + std::to_string(count);
  }
  return out;
}

int differences(const Assignment& a, const Assignment& b) {
  int n = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    n += a[i] != b[i] ? 1 : 0;
  }
  return n;
}

class MaglevTest : public AgentTest {
 protected:
  // One TCP connect from each client address, in a mesh child; the backend each one reached.
  // Stops at the first failure, which then ends the list.
  Assignment tcpPass(const Endpoint& vip) {
    std::string raw = runClient(
        sandbox_.procsFile(),
        [vip] {
          std::vector<std::string> names;
          for (int i = 0; i < kClients; ++i) {
            names.push_back(fetchNameFrom(clientAddress(i), 0, vip));
            if (names.back().rfind("error:", 0) == 0) {
              break;
            }
          }
          return joinNames(names);
        },
        kPassTimeout);
    Assignment pass = splitNames(raw);
    EXPECT_EQ(pass.size(), static_cast<size_t>(kClients)) << raw.substr(0, 400);
    pass.resize(kClients);
    return pass;
  }

  // Two passes; they must agree (the same client set always hashes the same way).
  Assignment stablePass(const Endpoint& vip, const std::string& phase) {
    Assignment first = tcpPass(vip);
    Assignment second = tcpPass(vip);
    EXPECT_EQ(differences(first, second), 0) << phase << ": a second pass moved clients";
    return first;
  }

  void expectEvenShares(const Assignment& pass, const std::vector<std::string>& backends) {
    auto shares = sharesOf(pass);
    double fair = static_cast<double>(kClients) / static_cast<double>(backends.size());
    std::printf("maglev: %zu backends, shares %s (fair %.0f)\n", backends.size(),
                describe(shares).c_str(), fair);
    for (const std::string& name : backends) {
      EXPECT_GE(shares[name], 0.5 * fair) << name << " in " << describe(shares);
      EXPECT_LE(shares[name], 1.5 * fair) << name << " in " << describe(shares);
    }
    EXPECT_EQ(shares.size(), backends.size()) << describe(shares);
  }

  // A backend on a fixed port: the table hashes each backend's address and port, so fixed
  // ports make every run build the same tables and print the same figures.
  TcpNameServer& fixedServer(const std::string& name, uint16_t port) {
    auto server = TcpNameServer::startOn(name, "127.0.0.1", port);
    if (!server) {
      throw std::runtime_error("cannot start tcp server " + name + " on port " +
                               std::to_string(port));
    }
    tcp_servers_.push_back(std::move(server));
    return *tcp_servers_.back();
  }

  // "port=id ..." of the service's backends, from weftctl.
  std::string backendIds(const std::string& service) {
    CommandResult r = sandbox_.weftctl({"-o", "json", "backend", "list", service});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string out;
    for (const auto& row : nlohmann::json::parse(r.out, nullptr, false)) {
      out += std::to_string(row.value("port", 0)) + "=" +
             std::to_string(row.value("backend_id", 0)) + " ";
    }
    return out;
  }

  void apply(const AgentConfig& config) {
    ASSERT_TRUE(sandbox_.writeConfig(config));
    ASSERT_TRUE(sandbox_.reloadAgent());
    ASSERT_NO_FATAL_FAILURE(expectServing(config));
  }
};

TEST_F(MaglevTest, ClientsKeepTheirBackendAndOnlyAboutOneInNMovesWhenTheSetChanges) {
  std::vector<std::string> names = {"b1", "b2", "b3", "b4", "b5"};
  std::vector<BackendSpec> backends;
  for (size_t i = 0; i < names.size(); ++i) {
    backends.push_back(backendOf(fixedServer(names[i], kFirstBackendPort + i)));
  }
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "maglev", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);

  // (a) Consistency, and every backend owns a fair share of the clients.
  Assignment all5 = stablePass(vip, "5 backends");
  ASSERT_FALSE(HasFailure());
  expectEvenShares(all5, names);

  // (b) b3 leaves: its clients must move, the others (almost) all stay.
  AgentConfig without_b3 = config;
  without_b3.services[0].backends.erase(without_b3.services[0].backends.begin() + 2);
  ASSERT_NO_FATAL_FAILURE(apply(without_b3));
  Assignment four = stablePass(vip, "b3 removed");
  int of_b3 = 0, others = 0, others_moved = 0, moved = 0;
  for (int i = 0; i < kClients; ++i) {
    bool was_b3 = all5[i] == "b3";
    bool moves = four[i] != all5[i];
    of_b3 += was_b3 ? 1 : 0;
    others += was_b3 ? 0 : 1;
    others_moved += !was_b3 && moves ? 1 : 0;
    moved += moves ? 1 : 0;
  }
  std::printf(
      "maglev remove b3 (5 -> 4): moved %d of %d (%.3f, expected 1/5 = 0.200); b3 had %d; "
      "others moved %d of %d (%.4f)\n",
      moved, kClients, static_cast<double>(moved) / kClients, of_b3, others_moved, others,
      static_cast<double>(others_moved) / others);
  EXPECT_EQ(sharesOf(four).count("b3"), 0u) << describe(sharesOf(four));
  EXPECT_LE(others_moved, kStrayShare * others);
  EXPECT_LE(moved, kMoveSlack * kClients / 5);

  // The same backend set as before gives the same table: every client is back where it was.
  ASSERT_NO_FATAL_FAILURE(apply(config));
  Assignment back = stablePass(vip, "b3 back");
  int not_back = differences(all5, back);
  std::printf("maglev b3 back (4 -> 5): %d of %d clients differ from the first pass\n", not_back,
              kClients);
  EXPECT_EQ(not_back, 0);

  // (c) A 6th backend: the clients that move all move to it.
  names.push_back("b6");
  AgentConfig six = config;
  six.services[0].backends.push_back(backendOf(fixedServer("b6", kFirstBackendPort + 5)));
  ASSERT_NO_FATAL_FAILURE(apply(six));
  Assignment after6 = stablePass(vip, "b6 added");
  int to_b6 = 0, elsewhere = 0;
  moved = 0;
  for (int i = 0; i < kClients; ++i) {
    if (after6[i] == back[i]) {
      continue;
    }
    ++moved;
    (after6[i] == "b6" ? to_b6 : elsewhere)++;
  }
  std::printf(
      "maglev add b6 (5 -> 6): moved %d of %d (%.3f, expected 1/6 = 0.167); to b6 %d, "
      "elsewhere %d\n",
      moved, kClients, static_cast<double>(moved) / kClients, to_b6, elsewhere);
  EXPECT_LE(elsewhere, kStrayShare * kClients);
  EXPECT_LE(moved, kMoveSlack * kClients / 6);
  expectEvenShares(after6, names);
}

// What another host sharing the registry does: fresh maps, other local backend ids (another
// service takes the low ones first), the backends listed in another order. The table depends
// only on the backends, so every client lands where it did.
TEST_F(MaglevTest, AFreshAgentWithOtherBackendIdsSendsEveryClientToTheSameBackend) {
  std::vector<BackendSpec> backends;
  for (int i = 0; i < 5; ++i) {
    backends.push_back(backendOf(fixedServer("b" + std::to_string(i + 1), kFirstBackendPort + i)));
  }
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "maglev", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);
  Assignment first = tcpPass(vip);
  ASSERT_FALSE(HasFailure());
  std::string first_ids = backendIds("web");

  int status = sandbox_.agent().stop(milliseconds(5000));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  CommandResult cleanup = sandbox_.cleanupAgent();
  ASSERT_EQ(cleanup.exit_code, 0) << cleanup.err;

  AgentConfig other_host = sandbox_.baseConfig();
  std::vector<BackendSpec> others;
  for (int i = 0; i < 3; ++i) {
    others.push_back(
        backendOf(fixedServer("o" + std::to_string(i + 1), kFirstBackendPort + 10 + i)));
  }
  other_host.services.push_back({"aaa", "10.96.0.20", 80, "tcp", "round_robin", others});
  std::vector<BackendSpec> reversed(backends.rbegin(), backends.rend());
  other_host.services.push_back({"web", "10.96.0.10", 80, "tcp", "maglev", reversed});
  ASSERT_NO_FATAL_FAILURE(startAgent(other_host));
  Assignment second = tcpPass(vip);
  EXPECT_NE(backendIds("web"), first_ids) << "the second agent should use other local ids";
  int moved = differences(first, second);
  std::printf("maglev fresh agent, other backend ids: %d of %d clients differ\n", moved, kClients);
  EXPECT_EQ(moved, 0);
}

// An IPv6 socket bound to ::ffff:a.b.c.d and connecting to the IPv4 service through its
// mapped address is the same client as an IPv4 socket bound to a.b.c.d.
TEST_F(MaglevTest, MappedIpv4ClientsLandWhereTheirIpv4AddressDoes) {
  std::vector<BackendSpec> backends;
  for (int i = 0; i < 4; ++i) {
    backends.push_back(
        backendOf(fixedServer("b" + std::to_string(i + 1), kFirstBackendPort + 20 + i)));
  }
  AgentConfig config = sandbox_.baseConfig();
  config.services.push_back({"web", "10.96.0.10", 80, "tcp", "maglev", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint vip = endpoint("10.96.0.10", 80);
  Endpoint mapped = endpoint("::ffff:10.96.0.10", 80);

  constexpr int kPairs = 200;
  std::string raw = runClient(
      sandbox_.procsFile(),
      [&] {
        std::vector<std::string> names;
        for (int i = 0; i < kPairs; ++i) {
          names.push_back(fetchNameFrom(clientAddress(i), 0, vip));
          names.push_back(fetchNameFrom("::ffff:" + clientAddress(i), 0, mapped));
        }
        return joinNames(names);
      },
      kPassTimeout);
  Assignment pairs = splitNames(raw);
  ASSERT_EQ(pairs.size(), 2u * kPairs) << raw.substr(0, 400);
  int differ = 0;
  std::map<std::string, int> shares;
  for (int i = 0; i < kPairs; ++i) {
    differ += pairs[2 * i] != pairs[2 * i + 1] ? 1 : 0;
    ++shares[pairs[2 * i]];
  }
  std::printf("maglev mapped IPv4: %d of %d pairs differ; shares %s\n", differ, kPairs,
              describe(shares).c_str());
  EXPECT_EQ(differ, 0);
  EXPECT_EQ(shares.size(), 4u) << describe(shares);
}

// IPv6 clients: by address and port, the ports of ::1 spread and stay; by address alone they
// are one client.
TEST_F(MaglevTest, Ipv6ClientsHashByAddressAndPort) {
  std::vector<BackendSpec> backends;
  for (const char* name : {"s1", "s2", "s3"}) {
    backends.push_back(backendOf(tcpServer(name, AF_INET6)));
  }
  AgentConfig config = sandbox_.baseConfig();
  ServiceSpec by_port{"web6", "fd00:96::10", 80, "tcp", "maglev", backends};
  by_port.hash_key = "client_addr_port";
  ServiceSpec by_addr{"web6a", "fd00:96::11", 80, "tcp", "maglev", backends};
  config.services.push_back(by_port);
  config.services.push_back(by_addr);
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint port_vip = endpoint("fd00:96::10", 80);
  Endpoint addr_vip = endpoint("fd00:96::11", 80);

  constexpr int kPorts = 150;
  auto pass = [&](const Endpoint& vip) {
    std::string raw = runClient(
        sandbox_.procsFile(),
        [&] {
          std::vector<std::string> names;
          for (int i = 0; i < kPorts; ++i) {
            names.push_back(fetchNameFrom("::1", static_cast<uint16_t>(kUdpFirstPort + i), vip));
          }
          return joinNames(names);
        },
        kPassTimeout);
    Assignment names = splitNames(raw);
    EXPECT_EQ(names.size(), static_cast<size_t>(kPorts)) << raw.substr(0, 400);
    return names;
  };
  Assignment first = pass(port_vip);
  Assignment second = pass(port_vip);
  Assignment by_address = pass(addr_vip);
  std::printf("maglev ipv6 client_addr_port: %s; second pass moved %d; client_addr: %s\n",
              describe(sharesOf(first)).c_str(), differences(first, second),
              describe(sharesOf(by_address)).c_str());
  EXPECT_EQ(differences(first, second), 0);
  EXPECT_EQ(sharesOf(first).size(), 3u) << describe(sharesOf(first));
  EXPECT_EQ(sharesOf(by_address).size(), 1u) << describe(sharesOf(by_address));
}

TEST_F(MaglevTest, UdpHashOnAddressAndPortSpreadsOneAddressAndIsStable) {
  auto& u1 = udpServer("u1");
  auto& u2 = udpServer("u2");
  auto& u3 = udpServer("u3");
  std::vector<BackendSpec> backends = {backendOf(u1), backendOf(u2), backendOf(u3)};
  AgentConfig config = sandbox_.baseConfig();
  ServiceSpec by_port{"dns", "10.96.0.11", 53, "udp", "maglev", backends};
  by_port.hash_key = "client_addr_port";
  config.services.push_back(by_port);
  // The default key, client_addr: one address is one client, whatever its ports.
  config.services.push_back({"dns-addr", "10.96.0.12", 53, "udp", "maglev", backends});
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  Endpoint by_port_vip = endpoint("10.96.0.11", 53);
  Endpoint by_addr_vip = endpoint("10.96.0.12", 53);

  auto pass = [&](const Endpoint& vip) {
    std::string raw = runClient(
        sandbox_.procsFile(),
        [vip] {
          std::vector<std::string> names;
          for (int i = 0; i < kUdpClients; ++i) {
            names.push_back(
                udpNameFrom("127.1.0.1", static_cast<uint16_t>(kUdpFirstPort + i), vip));
            if (names.back().rfind("error:", 0) == 0) {
              break;
            }
          }
          return joinNames(names);
        },
        kPassTimeout);
    Assignment out = splitNames(raw);
    EXPECT_EQ(out.size(), static_cast<size_t>(kUdpClients)) << raw.substr(0, 400);
    out.resize(kUdpClients);
    return out;
  };

  Assignment first = pass(by_port_vip);
  Assignment second = pass(by_port_vip);
  auto shares = sharesOf(first);
  std::printf("maglev udp client_addr_port: 300 ports of 127.1.0.1 -> %s; second pass moved %d\n",
              describe(shares).c_str(), differences(first, second));
  EXPECT_EQ(differences(first, second), 0);
  for (const char* name : {"u1", "u2", "u3"}) {
    EXPECT_GE(shares[name], kUdpClients / 6) << describe(shares);
  }
  EXPECT_EQ(shares.size(), 3u) << describe(shares);

  auto by_addr = sharesOf(pass(by_addr_vip));
  std::printf("maglev udp client_addr: 300 ports of 127.1.0.1 -> %s\n", describe(by_addr).c_str());
  EXPECT_EQ(by_addr.size(), 1u) << describe(by_addr);
}

TEST_F(MaglevTest, WeftctlSwitchesARegistryServiceToMaglevAndRefusesABadTableSize) {
  AgentConfig config = sandbox_.baseConfig();
  ASSERT_NO_FATAL_FAILURE(startAgent(config));
  auto api = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--socket", config.api_socket});
    return sandbox_.weftctl(args);
  };
  std::vector<std::string> expected;
  CommandResult r = api({"service", "register", "web", "--port", "80"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"b1", "b2", "b3"}) {
    auto& server = tcpServer(name);
    r = api({"endpoint", "register", "web", "--host", server.ip(), "--port",
             std::to_string(server.port())});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    expected.push_back(backendOf(server).address + ":" + std::to_string(server.port()));
  }
  std::string last;
  ASSERT_TRUE(sandbox_.waitForBackends("web", expected, milliseconds(10000), &last)) << last;

  r = api({"service", "set-algorithm", "web", "maglev", "--table-size", "1021", "--hash-key",
           "client_addr_port"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "service default/web: algorithm maglev, table size 1021, hash key client_addr_port\n");
  std::string listed;
  auto isMaglev1021 = [](const std::string& text) {
    auto doc = nlohmann::json::parse(text, nullptr, false);
    return doc.is_array() && doc.size() == 1 && doc[0].is_object() &&
           doc[0].value("algorithm", "") == "maglev" && doc[0].value("maglev_size", 0u) == 1021u;
  };
  for (int i = 0; i < 200 && !isMaglev1021(listed); ++i) {
    std::this_thread::sleep_for(milliseconds(i == 0 ? 0 : 50));
    listed = sandbox_.weftctl({"-o", "json", "service", "list"}).out;
  }
  ASSERT_TRUE(isMaglev1021(listed)) << listed;

  // Ports of one address are distinct clients under client_addr_port, each a stable one.
  Endpoint vip = endpoint("10.96.0.1", 80);
  auto pass = [&] {
    return splitNames(runClient(sandbox_.procsFile(), [vip] {
      std::vector<std::string> names;
      for (int i = 0; i < 60; ++i) {
        names.push_back(fetchNameFrom("127.1.0.1", static_cast<uint16_t>(kUdpFirstPort + i), vip));
      }
      return joinNames(names);
    }));
  };
  Assignment first = pass();
  Assignment second = pass();
  ASSERT_EQ(first.size(), 60u);
  EXPECT_EQ(differences(first, second), 0);
  auto shares = sharesOf(first);
  EXPECT_EQ(shares.size(), 3u) << describe(shares);

  r = api({"service", "set-algorithm", "web", "maglev", "--table-size", "1000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("maglev_table_size"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1000"), std::string::npos) << r.err;
}

TEST_F(MaglevTest, ATableSizeThatIsNotAPrimeInRangeStopsTheAgentAtStart) {
  auto& b1 = tcpServer("b1");
  AgentConfig config = sandbox_.baseConfig();
  ServiceSpec web{"web", "10.96.0.10", 80, "tcp", "maglev", {backendOf(b1)}};
  web.maglev_table_size = 1000;
  config.services.push_back(web);
  ASSERT_TRUE(sandbox_.writeConfig(config));
  ASSERT_TRUE(sandbox_.startAgent());
  ASSERT_NE(sandbox_.agent().waitExit(milliseconds(10000)), -1) << sandbox_.logText();
  std::string log = sandbox_.logText();
  EXPECT_NE(log.find("services[0].maglev_table_size: 1000 is not a prime"), std::string::npos)
      << log;
}

}  // namespace
}  // namespace weft::e2e
