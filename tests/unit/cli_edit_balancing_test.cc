// SPDX-License-Identifier: Apache-2.0
// weftctl service set-algorithm (with Maglev options) and set-affinity against a real API
// server: what lands in the registry, what weftctl prints, and the server's refusals; and the
// API client creating a service with the algorithm the C API asks for.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/api_test_util.h"
#include "userspace/api_client/api_client.h"
#include "userspace/cli/edit_commands.h"

namespace weft::cli {
namespace {

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

class EditBalancingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.start());
    registry::Service web;
    web.name = "web";
    web.ports = {{"", 80, WEFT_PROTO_TCP}};
    ASSERT_TRUE(h_.fixture().registry.registerService(web));
  }

  // Parses `args` as weftctl does (after the program name) and runs the edit.
  Outcome run(std::vector<std::string> args) {
    CLI::App app;
    auto* service = app.add_subcommand("service");
    auto* backend = app.add_subcommand("backend");
    EditCommands edits(app, *service, *backend);
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    Outcome outcome;
    try {
      app.parse(reversed);
    } catch (const CLI::ParseError& e) {
      outcome.err = e.what();
      return outcome;
    }
    std::ostringstream out;
    std::ostringstream err;
    api::ClientOptions options;
    options.socket_path = h_.socketPath();
    outcome.code = edits.run(options, false, out, err);
    outcome.out = out.str();
    outcome.err = err.str();
    return outcome;
  }

  registry::Service stored() { return *h_.fixture().registry.getService("default", "web"); }

  api::testing::ServerHarness h_;
};

TEST_F(EditBalancingTest, SetAlgorithmWithMaglevOptions) {
  Outcome r = run({"service", "set-algorithm", "web", "maglev", "--table-size", "251", "--hash-key",
                   "client_addr_port"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "service default/web: algorithm maglev, table size 251, hash key "
            "client_addr_port\n");
  EXPECT_EQ(stored().algorithm, WEFT_LB_MAGLEV);
  EXPECT_EQ(stored().maglev_table_size, 251u);
  EXPECT_EQ(stored().hash_key, HashKey::kClientAddrPort);

  // Without the options the Maglev settings stay as they are.
  r = run({"service", "set-algorithm", "web", "round_robin"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "service default/web: algorithm round_robin\n");
  EXPECT_EQ(stored().algorithm, WEFT_LB_ROUND_ROBIN);
  EXPECT_EQ(stored().maglev_table_size, 251u);
}

TEST_F(EditBalancingTest, SetAlgorithmRefusalsComeFromTheServer) {
  Outcome r = run({"service", "set-algorithm", "web", "maglev", "--table-size", "1000"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "weftctl: maglev_table_size: 1000 is not a prime in 251..131071 (0 picks the default "
            "16381)\n");
  EXPECT_EQ(stored().algorithm, WEFT_LB_ROUND_ROBIN);

  r = run({"service", "set-algorithm", "web", "maglev", "--hash-key", "port"});
  EXPECT_EQ(r.code, -1);  // CLI11 rejects names it does not know
  EXPECT_NE(r.err.find("port"), std::string::npos) << r.err;
}

TEST_F(EditBalancingTest, SetAffinityOnAndOff) {
  Outcome r = run({"service", "set-affinity", "web", "30"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "service default/web: session affinity 30s idle timeout\n");
  EXPECT_EQ(stored().affinity_timeout_seconds, 30u);

  r = run({"service", "set-affinity", "web", "0"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "service default/web: session affinity off\n");
  EXPECT_EQ(stored().affinity_timeout_seconds, 0u);

  r = run({"service", "set-affinity", "web", "86401"});
  EXPECT_EQ(r.code, -1);
  EXPECT_NE(r.err.find("86401"), std::string::npos) << r.err;
  r = run({"service", "set-affinity", "nope", "5"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "weftctl: service default/nope does not exist\n");
}

TEST_F(EditBalancingTest, ClientCreatesServicesWithTheGivenAlgorithm) {
  api::ClientOptions options;
  options.socket_path = h_.socketPath();
  api::ApiClient client(options);
  registry::Endpoint ep;
  ep.service = "mesh";
  ep.host = *IpAddr::parse("10.0.0.1");
  ep.port = 8080;
  ASSERT_TRUE(client.registerEndpoint(ep, true, WEFT_LB_LEAST_CONN));
  EXPECT_EQ(h_.fixture().registry.getService("default", "mesh")->algorithm, WEFT_LB_LEAST_CONN);
  ep.service = "plain";
  ASSERT_TRUE(client.registerEndpoint(ep, true));
  EXPECT_EQ(h_.fixture().registry.getService("default", "plain")->algorithm, WEFT_LB_ROUND_ROBIN);
}

}  // namespace
}  // namespace weft::cli
