// SPDX-License-Identifier: Apache-2.0
// One HTTP/1.1 client connection (Boost.Beast over plain TCP) with a deadline on every step,
// used for etcd's JSON gateway: request/response calls and one long streaming response.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "userspace/common/result.h"

namespace weft::etcd {

using Clock = std::chrono::steady_clock;

// "http://host:port" split up. Only plain http: see the design note in etcd_client.h.
struct HttpEndpoint {
  std::string host;  // without brackets for IPv6
  std::string port;

  // Accepts "http://127.0.0.1:2379", "http://[::1]:2379", "http://localhost:2379".
  static Result<HttpEndpoint> parse(const std::string& url);
  std::string toString() const;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

// Not thread-safe, except abort(). Every blocking call ends by its deadline at the latest
// (host name resolution excepted: it uses the system resolver, which has its own timeouts).
class HttpConnection {
 public:
  explicit HttpConnection(HttpEndpoint endpoint);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  const HttpEndpoint& endpoint() const { return endpoint_; }
  // True when the last exchange left the connection open for another request.
  bool reusable() const;
  // True when the connection carried an earlier exchange (a failure may then mean that the
  // server closed an idle connection, and one retry on a fresh connection is reasonable).
  bool reused() const { return exchanges_ > 0; }
  // True when the last failure happened before any response byte arrived.
  bool failedBeforeResponse() const { return failed_before_response_; }

  // POSTs `body` (JSON) to `target` and reads the whole response.
  Result<HttpResponse> post(const std::string& target, const std::string& body,
                            Clock::time_point deadline, uint64_t max_body_bytes);

  // Starts a streaming POST: sends the request and reads the response header by `deadline`.
  // A status other than 200 is an error that carries the (bounded) response body.
  Status beginStream(const std::string& target, const std::string& body, Clock::time_point deadline,
                     const HttpHeaders& headers = {});
  // Blocks until more body bytes arrive; an error when the stream ends, fails, is aborted or
  // the deadline passes. Without a deadline, keepalive probes on the socket bound how long a
  // dead peer goes unnoticed.
  Result<std::string> readStream(std::optional<Clock::time_point> deadline = std::nullopt);

  // Thread-safe: makes a blocked or later call fail promptly with ECANCELED.
  void abort();

 private:
  struct Impl;

  Status connect(Clock::time_point deadline);

  HttpEndpoint endpoint_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> aborted_{false};
  int exchanges_ = 0;
  bool failed_before_response_ = false;
};

}  // namespace weft::etcd
