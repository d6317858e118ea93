// SPDX-License-Identifier: Apache-2.0
// The C API (libweft_mesh) end to end: the seed's C example run against weftd, the API driven
// directly against weftd and in-process, and its NULL, validation and ownership rules.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fixture.h"
#include "tests/e2e/process.h"
#include "weft/service_mesh.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

struct MeshDeleter {
  void operator()(DMSCServiceMesh* m) const { dmsc_service_mesh_free(m); }
  void operator()(DMSCServiceMeshConfig* c) const { dmsc_service_mesh_config_free(c); }
  void operator()(DMSCServiceEndpoint* e) const { dmsc_service_endpoint_free(e); }
};
using MeshPtr = std::unique_ptr<DMSCServiceMesh, MeshDeleter>;
using ConfigPtr = std::unique_ptr<DMSCServiceMeshConfig, MeshDeleter>;
using EndpointPtr = std::unique_ptr<DMSCServiceEndpoint, MeshDeleter>;

// An endpoint of user-service at host:port; the check path is optional.
EndpointPtr makeEndpoint(const char* host, uint32_t port, const char* check = "") {
  EndpointPtr e(dmsc_service_endpoint_new());
  EXPECT_EQ(dmsc_service_endpoint_set_name(e.get(), "user-service"), DMSC_OK);
  EXPECT_EQ(dmsc_service_endpoint_set_host(e.get(), host), DMSC_OK);
  EXPECT_EQ(dmsc_service_endpoint_set_port(e.get(), port), DMSC_OK);
  EXPECT_EQ(dmsc_service_endpoint_set_health_check_url(e.get(), check), DMSC_OK);
  return e;
}

class CapiAgentTest : public AgentTest {
 protected:
  void startRegistryAgent() {
    config_ = sandbox_.baseConfig();
    ASSERT_NO_FATAL_FAILURE(startAgent(config_));
    ASSERT_TRUE(sandbox_.waitForLog("agent ready", milliseconds(10000))) << sandbox_.logText();
  }

  // The kernel's service list entry with this VIP and port, waited for up to 3 s (the agent
  // syncs the maps after the registry changes), or null with the last list in `last_list_`.
  json serviceAt(const std::string& vip, int port) {
    for (int i = 0; i < 30; ++i) {
      auto r = sandbox_.weftctl({"-o", "json", "service", "list"});
      last_list_ = r.out + r.err;
      json list = json::parse(r.out, nullptr, false);
      for (const auto& s : list.is_array() ? list : json::array()) {
        if (s.value("vip", "") == vip && s.value("port", 0) == port)
          return s;
      }
      std::this_thread::sleep_for(milliseconds(100));
    }
    return nullptr;
  }

  json endpointList(const std::string& service) {
    auto r = sandbox_.weftctl(
        {"--socket", config_.api_socket, "-o", "json", "endpoint", "list", service});
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return json::parse(r.out, nullptr, false);
  }

  AgentConfig config_;
  std::string last_list_;
};

// The example registers 10.0.1.5:8080: only ever run inside this binary's network namespace.
TEST_F(CapiAgentTest, SeedExampleRunsAgainstWeftd) {
  ASSERT_NO_FATAL_FAILURE(startRegistryAgent());
  auto r = runCommand({"/usr/bin/env", "WEFT_API_SOCKET=" + config_.api_socket,
                       std::string(WEFT_BIN_DIR) + "/weft_capi_example"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // No route to 10.0.1.5 here, so its HTTP check never passes: nothing healthy to discover,
  // and the stats count start, register, healthy count and the failed discover.
  EXPECT_EQ(r.out,
            "Service mesh started successfully\n"
            "Service endpoint registered successfully\n"
            "Service: user-service (version: v1.2.3), healthy instances: 0\n"
            "Mesh stats: 4 total requests, 1 failed\n"
            "Service mesh shutdown complete\n");
  // The service the example created keeps its VIP; its endpoint is gone.
  json svc = serviceAt("10.96.0.1", 8080);
  ASSERT_FALSE(svc.is_null()) << last_list_ << sandbox_.logText();
  EXPECT_EQ(svc.value("backends", -1), 0);
  EXPECT_EQ(endpointList("user-service"), json::array());
}

TEST_F(CapiAgentTest, RegisterCreatesServiceWithVipAndDeregisterRemovesEndpoint) {
  ASSERT_NO_FATAL_FAILURE(startRegistryAgent());
  ConfigPtr config(dmsc_service_mesh_config_new());
  ASSERT_EQ(dmsc_service_mesh_config_set_api_socket(config.get(), config_.api_socket.c_str()),
            DMSC_OK);
  MeshPtr mesh(dmsc_service_mesh_new(config.get()));
  config.reset();  // the mesh keeps its own copy
  ASSERT_EQ(dmsc_service_mesh_start(mesh.get()), DMSC_OK)
      << dmsc_service_mesh_last_error(mesh.get());
  EXPECT_TRUE(dmsc_service_mesh_is_remote(mesh.get()));

  EndpointPtr ep = makeEndpoint("10.0.1.5", 8080, "/health");
  ASSERT_EQ(dmsc_service_mesh_register(mesh.get(), ep.get()), DMSC_OK)
      << dmsc_service_mesh_last_error(mesh.get());
  EXPECT_FALSE(serviceAt("10.96.0.1", 8080).is_null()) << last_list_;
  json eps = endpointList("user-service");
  ASSERT_EQ(eps.size(), 1u) << eps;
  EXPECT_EQ(eps[0].value("host", ""), "10.0.1.5");
  EXPECT_EQ(eps[0]["health"].value("kind", ""), "http");
  EXPECT_EQ(eps[0]["health"].value("http_path", ""), "/health");
  EXPECT_EQ(dmsc_service_mesh_get_healthy_count(mesh.get(), "user-service"), 0u);

  EXPECT_EQ(dmsc_service_mesh_register(mesh.get(), ep.get()), DMSC_ERR_CONFLICT);
  EXPECT_NE(std::string(dmsc_service_mesh_last_error(mesh.get())), "");
  DMSCServiceEndpoint* found = reinterpret_cast<DMSCServiceEndpoint*>(1);
  EXPECT_EQ(dmsc_service_mesh_discover(mesh.get(), "user-service", &found), DMSC_ERR_UNAVAILABLE);
  EXPECT_EQ(found, nullptr);
  EXPECT_EQ(dmsc_service_mesh_discover(mesh.get(), "nope", &found), DMSC_ERR_NOT_FOUND);

  ASSERT_EQ(dmsc_service_mesh_deregister(mesh.get(), ep.get()), DMSC_OK);
  EXPECT_EQ(endpointList("user-service"), json::array());
  EXPECT_EQ(dmsc_service_mesh_deregister(mesh.get(), ep.get()), DMSC_ERR_NOT_FOUND);
  // start, register x2, healthy count, discover x2, deregister x2; conflict, 2 discovers and
  // the second deregister failed.
  EXPECT_EQ(dmsc_service_mesh_get_total_requests(mesh.get()), 8u);
  EXPECT_EQ(dmsc_service_mesh_get_failed_requests(mesh.get()), 4u);
  EXPECT_EQ(dmsc_service_mesh_stop(mesh.get()), DMSC_OK);
  EXPECT_EQ(dmsc_service_mesh_register(mesh.get(), ep.get()), DMSC_ERR_NOT_STARTED);
}

class CapiLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "weft-capi-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

TEST_F(CapiLocalTest, FallsBackToAnInProcessRegistryWhenNoWeftdAnswers) {
  ConfigPtr config(dmsc_service_mesh_config_new());
  std::string socket = dir_ + "/absent.sock";
  std::string db = dir_ + "/registry.db";
  ASSERT_EQ(dmsc_service_mesh_config_set_api_socket(config.get(), socket.c_str()), DMSC_OK);
  ASSERT_EQ(dmsc_service_mesh_config_set_registry_path(config.get(), db.c_str()), DMSC_OK);
  MeshPtr mesh(dmsc_service_mesh_new(config.get()));
  ASSERT_EQ(dmsc_service_mesh_start(mesh.get()), DMSC_OK)
      << dmsc_service_mesh_last_error(mesh.get());
  EXPECT_FALSE(dmsc_service_mesh_is_remote(mesh.get()));

  // Loopback only; nothing is checked or contacted in-process.
  EndpointPtr unchecked = makeEndpoint("127.0.0.1", 9001);
  EndpointPtr checked = makeEndpoint("127.0.0.2", 9001, "/health");
  ASSERT_EQ(dmsc_service_mesh_register(mesh.get(), unchecked.get()), DMSC_OK)
      << dmsc_service_mesh_last_error(mesh.get());
  ASSERT_EQ(dmsc_service_mesh_register(mesh.get(), checked.get()), DMSC_OK);
  EXPECT_EQ(dmsc_service_mesh_get_healthy_count(mesh.get(), "user-service"), 1u);

  DMSCServiceEndpoint* found = nullptr;
  ASSERT_EQ(dmsc_service_mesh_discover(mesh.get(), "user-service", &found), DMSC_OK);
  EndpointPtr owned(found);  // a new endpoint the caller frees
  ASSERT_NE(found, unchecked.get());
  EXPECT_STREQ(dmsc_service_endpoint_get_host(found), "127.0.0.1");
  EXPECT_EQ(dmsc_service_endpoint_get_port(found), 9001);
  EXPECT_STREQ(dmsc_service_endpoint_get_name(found), "user-service");
  EXPECT_EQ(dmsc_service_mesh_deregister(mesh.get(), unchecked.get()), DMSC_OK);
  EXPECT_EQ(dmsc_service_mesh_discover(mesh.get(), "user-service", &found), DMSC_ERR_UNAVAILABLE);
}

TEST(CapiTest, NullHandlesFailCleanly) {
  EXPECT_EQ(dmsc_service_mesh_new(nullptr), nullptr);
  EXPECT_EQ(dmsc_service_mesh_start(nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_stop(nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_register(nullptr, nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_deregister(nullptr, nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_discover(nullptr, "x", nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_get_healthy_count(nullptr, "x"), 0u);
  EXPECT_EQ(dmsc_service_mesh_reload_config(nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_get_total_requests(nullptr), 0u);
  EXPECT_EQ(dmsc_service_mesh_last_error(nullptr), nullptr);
  EXPECT_EQ(dmsc_service_mesh_config_set_enable_mtls(nullptr, true), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_config_set_api_socket(nullptr, "/x"), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_set_name(nullptr, "x"), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_get_name(nullptr), nullptr);
  EXPECT_EQ(dmsc_service_endpoint_get_port(nullptr), 0);
  dmsc_service_mesh_free(nullptr);
  dmsc_service_mesh_config_free(nullptr);
  dmsc_service_endpoint_free(nullptr);

  ConfigPtr config(dmsc_service_mesh_config_new());
  MeshPtr mesh(dmsc_service_mesh_new(config.get()));
  EXPECT_EQ(dmsc_service_mesh_register(mesh.get(), nullptr), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_discover(mesh.get(), nullptr, nullptr), DMSC_ERR_INVALID);
}

TEST(CapiTest, SettersRejectBadValuesAndKeepTheOldOne) {
  EndpointPtr e(dmsc_service_endpoint_new());
  EXPECT_STREQ(dmsc_service_endpoint_get_host(e.get()), "");
  EXPECT_EQ(dmsc_service_endpoint_set_port(e.get(), 0), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_set_port(e.get(), 65536), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_set_port(e.get(), 65535), DMSC_OK);
  EXPECT_EQ(dmsc_service_endpoint_get_port(e.get()), 65535);
  EXPECT_EQ(dmsc_service_endpoint_set_host(e.get(), "10.0.1.5"), DMSC_OK);
  EXPECT_EQ(dmsc_service_endpoint_set_host(e.get(), "db.example"), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_set_host(e.get(), "10.0.1.256"), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_set_host(e.get(), nullptr), DMSC_ERR_INVALID);
  EXPECT_STREQ(dmsc_service_endpoint_get_host(e.get()), "10.0.1.5");
  EXPECT_EQ(dmsc_service_endpoint_set_health_check_url(e.get(), "health"), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_endpoint_set_namespace(e.get(), ""), DMSC_ERR_INVALID);
  EXPECT_STREQ(dmsc_service_endpoint_get_namespace(e.get()), "default");

  ConfigPtr c(dmsc_service_mesh_config_new());
  EXPECT_EQ(dmsc_service_mesh_config_set_circuit_breaker_failure_rate(c.get(), 1.5),
            DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_config_set_load_balancing_algorithm(c.get(), 99), DMSC_ERR_INVALID);
  EXPECT_EQ(dmsc_service_mesh_config_set_load_balancing_algorithm(c.get(), LB_LEAST_REQUESTS),
            DMSC_OK);
  EXPECT_EQ(dmsc_service_mesh_config_get_load_balancing_algorithm(c.get()), LB_LEAST_CONNECTIONS);
  EXPECT_DOUBLE_EQ(dmsc_service_mesh_config_get_circuit_breaker_failure_rate(c.get()), 0.5);
  MeshPtr mesh(dmsc_service_mesh_new(c.get()));
  EXPECT_EQ(dmsc_service_mesh_set_circuit_breaker_failure_rate(mesh.get(), 0.3), DMSC_OK);
  EXPECT_DOUBLE_EQ(dmsc_service_mesh_get_circuit_breaker_failure_rate(mesh.get()), 0.3);
  EXPECT_EQ(dmsc_service_mesh_reload_config(mesh.get()), DMSC_OK);
}

TEST(CapiTest, GetterStringsLiveUntilTheFieldIsSetAgain) {
  EndpointPtr e(dmsc_service_endpoint_new());
  ASSERT_EQ(dmsc_service_endpoint_set_version(e.get(), "v1"), DMSC_OK);
  const char* version = dmsc_service_endpoint_get_version(e.get());
  ASSERT_EQ(dmsc_service_endpoint_set_zone(e.get(), "zone-a"), DMSC_OK);
  ASSERT_EQ(dmsc_service_endpoint_set_weight(e.get(), 7), DMSC_OK);
  // Setting other fields leaves the returned pointer valid and unchanged.
  EXPECT_EQ(version, dmsc_service_endpoint_get_version(e.get()));
  EXPECT_STREQ(version, "v1");
  EXPECT_STREQ(dmsc_service_endpoint_get_zone(e.get()), "zone-a");
  EXPECT_EQ(dmsc_service_endpoint_get_weight(e.get()), 7u);
}

TEST(CapiTest, RegisterNamesTheMissingField) {
  ConfigPtr config(dmsc_service_mesh_config_new());
  std::string dir = (std::filesystem::temp_directory_path() / "weft-capi-nf-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  std::string socket = dir + "/absent.sock", db = dir + "/registry.db";
  dmsc_service_mesh_config_set_api_socket(config.get(), socket.c_str());
  dmsc_service_mesh_config_set_registry_path(config.get(), db.c_str());
  MeshPtr mesh(dmsc_service_mesh_new(config.get()));
  ASSERT_EQ(dmsc_service_mesh_start(mesh.get()), DMSC_OK);
  EndpointPtr e(dmsc_service_endpoint_new());
  dmsc_service_endpoint_set_name(e.get(), "user-service");
  dmsc_service_endpoint_set_host(e.get(), "127.0.0.1");
  EXPECT_EQ(dmsc_service_mesh_register(mesh.get(), e.get()), DMSC_ERR_INVALID);
  EXPECT_NE(std::string(dmsc_service_mesh_last_error(mesh.get())).find("endpoint.port"),
            std::string::npos);
  dmsc_service_endpoint_set_port(e.get(), 80);
  dmsc_service_endpoint_set_name(e.get(), "Bad_Name");
  EXPECT_EQ(dmsc_service_mesh_register(mesh.get(), e.get()), DMSC_ERR_INVALID);
  EXPECT_NE(std::string(dmsc_service_mesh_last_error(mesh.get())).find("Bad_Name"),
            std::string::npos)
      << dmsc_service_mesh_last_error(mesh.get());
  mesh.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace weft::e2e
