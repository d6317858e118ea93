// SPDX-License-Identifier: Apache-2.0
// The API client against a real server on a unix socket: typed calls, the server's error
// messages and codes, reconnects, concurrent callers, and an unreachable or silent weftd.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/unit/api_test_util.h"
#include "userspace/api_client/api_client.h"

namespace weft::api {
namespace {

using std::chrono::milliseconds;

registry::Service service(const std::string& name, uint16_t port = 80) {
  registry::Service s;
  s.name = name;
  s.ports = {{"", port, WEFT_PROTO_TCP}};
  return s;
}

registry::Endpoint endpoint(const std::string& svc, const char* host, uint16_t port) {
  registry::Endpoint e;
  e.service = svc;
  e.host = *IpAddr::parse(host);
  e.port = port;
  return e;
}

class ApiClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(h_.start().ok()); }

  ClientOptions options(milliseconds timeout = milliseconds(5000)) {
    return ClientOptions{h_.socketPath(), "", timeout};
  }

  testing::ServerHarness h_;
};

TEST_F(ApiClientTest, TypedCallsRoundTrip) {
  ApiClient client(options());
  registry::Service web = service("web");
  web.labels["app"] = "web";
  auto registered = client.registerService(web);
  ASSERT_TRUE(registered.ok()) << registered.error().message;
  ASSERT_TRUE(registered->vip.has_value());
  EXPECT_EQ(registered->labels, web.labels);

  registry::Endpoint e1 = endpoint("web", "127.0.0.1", 8081);
  e1.version = "v1";
  e1.health.kind = registry::HealthCheckKind::kTcp;
  auto stored = client.registerEndpoint(e1);
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->version, "v1");
  ASSERT_TRUE(client.registerEndpoint(endpoint("web", "127.0.0.2", 8081)).ok());
  h_.fixture().health.setDown("127.0.0.2:8081", true);

  auto services = client.listServices();
  ASSERT_TRUE(services.ok());
  ASSERT_EQ(services->size(), 1u);
  EXPECT_EQ((*services)[0].vip, registered->vip);
  EXPECT_TRUE(client.listServices("other")->empty());

  auto detail = client.getService("default", "web");
  ASSERT_TRUE(detail.ok()) << detail.error().message;
  ASSERT_EQ(detail->endpoints.size(), 2u);
  EXPECT_TRUE(detail->endpoints[0].healthy);
  EXPECT_FALSE(detail->endpoints[1].healthy);
  EXPECT_EQ(detail->endpoints[0].endpoint.health.kind, registry::HealthCheckKind::kTcp);

  auto picked = client.discover("default", "web");
  ASSERT_TRUE(picked.ok()) << picked.error().message;
  EXPECT_EQ(picked->id(), "127.0.0.1:8081");

  EXPECT_TRUE(client.heartbeat("default", "web", "127.0.0.1:8081").ok());
  EXPECT_TRUE(client.deregisterEndpoint("default", "web", "127.0.0.2:8081").ok());
  EXPECT_EQ(client.listEndpoints("default", "web")->size(), 1u);

  registry::Service changed = *registered;
  changed.algorithm = WEFT_LB_RANDOM;
  auto updated = client.updateService(changed);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(updated->algorithm, WEFT_LB_RANDOM);

  EXPECT_TRUE(client.deregisterService("default", "web").ok());
  EXPECT_TRUE(client.listServices()->empty());
  EXPECT_EQ((*client.status())["services"], 0);
}

TEST_F(ApiClientTest, ReturnsTheServersErrorsWithRegistryCodes) {
  ApiClient client(options());
  ASSERT_TRUE(client.registerService(service("web")).ok());

  auto duplicate = client.registerService(service("web"));
  ASSERT_FALSE(duplicate.ok());
  EXPECT_EQ(duplicate.error().code, registry::kConflict);
  EXPECT_NE(duplicate.error().message.find("web"), std::string::npos);

  auto bad_port = client.registerService(service("other", 0));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_EQ(bad_port.error().code, registry::kInvalid);
  EXPECT_NE(bad_port.error().message.find("port"), std::string::npos) << bad_port.error().message;

  auto unknown = client.getService("default", "nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, registry::kNotFound);
  EXPECT_EQ(unknown.error().message, "service default/nope does not exist");

  auto no_endpoint = client.discover("default", "web");
  ASSERT_FALSE(no_endpoint.ok());
  EXPECT_EQ(no_endpoint.error().code, EAGAIN);

  auto malformed = client.call("POST", "/v1/services", "{\"name\":");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, registry::kInvalid);

  // Names with characters that need escaping reach the server intact and are refused there.
  auto odd = client.getService("default", "a b/c");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.error().code, registry::kInvalid);
  EXPECT_EQ(h_.fixture().store.snapshot()->services.size(), 1u);
}

TEST_F(ApiClientTest, ReconnectsWhenTheServerClosedAnIdleConnection) {
  h_.stop();
  h_.options().header_timeout = milliseconds(100);
  ASSERT_TRUE(h_.start().ok());
  ApiClient client(options());
  auto first = client.status();
  ASSERT_TRUE(first.ok()) << first.error().message;
  std::this_thread::sleep_for(milliseconds(400));
  auto again = client.status();
  EXPECT_TRUE(again.ok()) << again.error().message;
}

TEST_F(ApiClientTest, ConcurrentCallersShareOneClient) {
  ApiClient client(options());
  ASSERT_TRUE(client.registerService(service("web")).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; i++) {
        std::string host = "127.0.1." + std::to_string(t * 25 + i + 1);
        if (!client.registerEndpoint(endpoint("web", host.c_str(), 80)).ok()) {
          failures++;
        }
        if (!client.listEndpoints("default", "web").ok()) {
          failures++;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(client.listEndpoints("default", "web")->size(), 100u);
}

TEST(ApiClientTransportTest, NoServerIsConnectionRefused) {
  testing::ScratchDir dir;
  ApiClient client(ClientOptions{dir.file("weftd.sock"), "", milliseconds(1000)});
  auto status = client.status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ECONNREFUSED);
  EXPECT_NE(status.error().message.find(dir.file("weftd.sock")), std::string::npos)
      << status.error().message;
}

TEST(ApiClientTransportTest, SilentServerTimesOut) {
  // Listens but never accepts: the connect completes through the backlog, the reply never
  // comes.
  testing::ScratchDir dir;
  std::string path = dir.file("silent.sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 4), 0);

  ApiClient client(ClientOptions{path, "", milliseconds(300)});
  auto start = std::chrono::steady_clock::now();
  auto status = client.status();
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ETIMEDOUT) << status.error().message;
  EXPECT_LT(elapsed, milliseconds(3000));
}

}  // namespace
}  // namespace weft::api
