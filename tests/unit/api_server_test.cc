// SPDX-License-Identifier: Apache-2.0
// The API server on a real unix socket: file permissions, stale sockets, keep-alive, the
// body and connection limits, timeouts and malformed HTTP. No root needed.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/unit/api_test_util.h"
#include "userspace/api_client/api_client.h"

namespace weft::api {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A raw client connection, for what ApiClient would never send.
class RawConnection {
 public:
  explicit RawConnection(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  bool connected() const { return connected_; }

  bool send(const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      off += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until the peer closes, `until` appears `count` times, or the deadline passes.
  // *closed tells whether the peer closed.
  std::string read(milliseconds timeout, bool* closed = nullptr, const std::string& until = "",
                   int count = 1) {
    std::string out;
    auto deadline = steady_clock::now() + timeout;
    bool eof = false;
    while (steady_clock::now() < deadline) {
      if (!until.empty() && occurrences(out, until) >= count) {
        break;
      }
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) <= 0) {
        continue;
      }
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        eof = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    if (closed) {
      *closed = eof;
    }
    return out;
  }

  static int occurrences(const std::string& text, const std::string& needle) {
    int n = 0;
    for (size_t pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + 1)) {
      n++;
    }
    return n;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::string getStatus(bool close) {
  return std::string("GET /v1/status HTTP/1.1\r\nHost: x\r\n") +
         (close ? "Connection: close\r\n" : "") + "\r\n";
}

// The JSON body of the first response in `raw`.
nlohmann::json bodyOf(const std::string& raw) {
  size_t start = raw.find("\r\n\r\n");
  if (start == std::string::npos) {
    return nullptr;
  }
  return nlohmann::json::parse(raw.substr(start + 4), nullptr, false);
}

class ApiServerTest : public ::testing::Test {
 protected:
  // Leaves a socket file at the server's path with nobody listening, as a killed weftd does.
  bool prepareForStaleSocket() {
    const std::string& path = h_.socketPath();
    std::filesystem::create_directories(path.substr(0, path.rfind('/')));
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return bound && ::access(path.c_str(), F_OK) == 0;
  }

  testing::ServerHarness h_;
};

TEST_F(ApiServerTest, SocketIsRootOnlyAndParentsAreCreated) {
  ASSERT_TRUE(h_.start().ok());
  struct stat st {};
  ASSERT_EQ(::stat(h_.socketPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  std::string parent = h_.socketPath().substr(0, h_.socketPath().rfind('/'));
  ASSERT_EQ(::stat(parent.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);

  h_.stop();
  EXPECT_NE(::access(h_.socketPath().c_str(), F_OK), 0) << "stop() leaves the socket file";
}

TEST_F(ApiServerTest, ReplacesStaleSocketOnly) {
  // A socket file nobody listens on, as a killed weftd leaves it.
  ASSERT_TRUE(prepareForStaleSocket());
  ASSERT_TRUE(h_.start().ok());
  RawConnection conn(h_.socketPath());
  ASSERT_TRUE(conn.connected());

  // A second server must not steal the socket of a live one.
  boost::asio::io_context io;
  ApiServer second(io, h_.fixture().registry, h_.fixture().health, h_.options());
  Status started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("another process listens"), std::string::npos)
      << started.error().message;
  RawConnection still(h_.socketPath());
  EXPECT_TRUE(still.connected());
}

TEST_F(ApiServerTest, RefusesToReplaceAFileThatIsNotASocket) {
  std::string path = h_.socketPath();
  std::filesystem::create_directories(path.substr(0, path.rfind('/')));
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fclose(f);
  Status started = h_.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().message.find("not a socket"), std::string::npos);
  EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "the file was removed";
}

TEST_F(ApiServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  ASSERT_TRUE(h_.start().ok());
  RawConnection conn(h_.socketPath());
  ASSERT_TRUE(conn.send(getStatus(false) + getStatus(false) + getStatus(true)));
  bool closed = false;
  std::string raw = conn.read(milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(RawConnection::occurrences(raw, "HTTP/1.1 200 OK"), 3) << raw;
  EXPECT_NE(raw.find("Content-Type: application/json"), std::string::npos);
}

TEST_F(ApiServerTest, OversizedBodyGets413AndStoresNothing) {
  ASSERT_TRUE(h_.start().ok());
  std::string body = R"({"name":"web","ports":[{"port":80}],"labels":{"big":")" +
                     std::string(70 * 1024, 'x') + "\"}}";
  RawConnection conn(h_.socketPath());
  ASSERT_TRUE(conn.send("POST /v1/services HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body));
  bool closed = false;
  std::string raw = conn.read(milliseconds(5000), &closed);
  EXPECT_EQ(raw.rfind("HTTP/1.1 413", 0), 0u) << raw.substr(0, 200);
  EXPECT_EQ(bodyOf(raw)["error"]["code"], "payload_too_large");
  EXPECT_TRUE(closed);
  EXPECT_TRUE(h_.fixture().store.snapshot()->services.empty());
  EXPECT_EQ(h_.fixture().store.writes(), 0);

  // A chunked body has no length up front; the limit applies as it arrives.
  RawConnection chunked(h_.socketPath());
  std::string chunk(32 * 1024, ' ');
  char size_line[32];
  std::snprintf(size_line, sizeof(size_line), "%zx\r\n", chunk.size());
  std::string request =
      "POST /v1/services HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; i++) {
    request += size_line + chunk + "\r\n";
  }
  request += "0\r\n\r\n";
  ASSERT_TRUE(chunked.send(request));
  raw = chunked.read(milliseconds(5000));
  EXPECT_EQ(raw.rfind("HTTP/1.1 413", 0), 0u) << raw.substr(0, 200);

  // The server is fine afterwards, and the client library reports the limit.
  ApiClient client(ClientOptions{h_.socketPath(), "", milliseconds(5000)});
  registry::Service big;
  big.name = "web";
  big.ports = {{"", 80, WEFT_PROTO_TCP}};
  big.labels["big"] = std::string(70 * 1024, 'x');
  auto registered = client.registerService(big);
  ASSERT_FALSE(registered.ok());
  EXPECT_EQ(registered.error().code, E2BIG);
  EXPECT_NE(registered.error().message.find("65536"), std::string::npos)
      << registered.error().message;
  EXPECT_TRUE(client.status().ok());
  EXPECT_EQ(h_.fixture().store.writes(), 0);
}

TEST_F(ApiServerTest, MalformedHttpGets400) {
  ASSERT_TRUE(h_.start().ok());
  RawConnection conn(h_.socketPath());
  ASSERT_TRUE(conn.send("THIS IS NOT HTTP\r\n\r\n"));
  bool closed = false;
  std::string raw = conn.read(milliseconds(5000), &closed);
  EXPECT_EQ(raw.rfind("HTTP/1.1 400", 0), 0u) << raw;
  EXPECT_EQ(bodyOf(raw)["error"]["code"], "bad_request");
  EXPECT_TRUE(closed);
}

TEST_F(ApiServerTest, OversizedHeaderGets431) {
  ASSERT_TRUE(h_.start().ok());
  RawConnection conn(h_.socketPath());
  ASSERT_TRUE(
      conn.send("GET /v1/status HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"));
  std::string raw = conn.read(milliseconds(5000));
  EXPECT_EQ(raw.rfind("HTTP/1.1 431", 0), 0u) << raw.substr(0, 200);
}

TEST_F(ApiServerTest, ConnectionsBeyondTheLimitGet503) {
  h_.options().max_connections = 1;
  ASSERT_TRUE(h_.start().ok());

  // A finished request proves the server holds the first connection as a session.
  auto first = std::make_unique<RawConnection>(h_.socketPath());
  ASSERT_TRUE(first->send(getStatus(false)));
  EXPECT_NE(first->read(milliseconds(5000), nullptr, "\"version\"").find("200 OK"),
            std::string::npos);

  RawConnection second(h_.socketPath());
  bool closed = false;
  std::string raw = second.read(milliseconds(5000), &closed);
  EXPECT_EQ(raw.rfind("HTTP/1.1 503", 0), 0u) << raw;
  EXPECT_EQ(bodyOf(raw)["error"]["code"], "unavailable");
  EXPECT_TRUE(closed);

  // Once the first leaves, a new client gets in (the server notices the close first).
  first.reset();
  bool served = false;
  for (int i = 0; i < 50 && !served; i++) {
    RawConnection next(h_.socketPath());
    next.send(getStatus(true));
    served = next.read(milliseconds(2000)).rfind("HTTP/1.1 200", 0) == 0;
    if (!served) {
      std::this_thread::sleep_for(milliseconds(20));
    }
  }
  EXPECT_TRUE(served);
}

TEST_F(ApiServerTest, SlowHeaderIsCutOff) {
  h_.options().header_timeout = milliseconds(200);
  ASSERT_TRUE(h_.start().ok());
  RawConnection conn(h_.socketPath());
  ASSERT_TRUE(conn.send("GET /v1/status HTTP/1.1\r\n"));
  auto start = steady_clock::now();
  bool closed = false;
  conn.read(milliseconds(5000), &closed);
  EXPECT_TRUE(closed);
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
}

TEST_F(ApiServerTest, TcpListensOnLoopbackOnly) {
  h_.options().socket_path.clear();
  h_.options().tcp = "10.1.2.3:0";
  Status refused = h_.start();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("loopback"), std::string::npos) << refused.error().message;

  h_.options().tcp = "0.0.0.0:0";
  EXPECT_FALSE(h_.start().ok());

  h_.options().tcp = "127.0.0.1:0";
  ASSERT_TRUE(h_.start().ok());
  ASSERT_NE(h_.tcpPort(), 0);
  ApiClient client(
      ClientOptions{"", "127.0.0.1:" + std::to_string(h_.tcpPort()), milliseconds(5000)});
  auto status = client.status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ((*status)["services"], 0);
}

TEST_F(ApiServerTest, RejectsSocketPathsItCannotUse) {
  h_.options().socket_path = "relative.sock";
  EXPECT_FALSE(h_.start().ok());
  h_.options().socket_path = "/tmp/" + std::string(200, 'a');
  Status too_long = h_.start();
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("longer than"), std::string::npos);
}

}  // namespace
}  // namespace weft::api
