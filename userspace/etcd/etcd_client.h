// SPDX-License-Identifier: Apache-2.0
// A small etcd v3 client: range, put, delete, txn and watch through etcd's JSON gateway.
//
// Design note. etcd 3.4 serves its gRPC API a second time as JSON over HTTP/1.1 (the
// grpc-gateway; paths under /v3/, checked against Debian's etcd 3.4.23, which also serves
// /v3beta/ but not /v3alpha/; keys and values base64, int64 as strings; watch as a streaming
// response of newline-delimited JSON). weft talks to that with Boost.Beast and
// nlohmann-json instead of gRPC because both come from Debian packages that are already build
// dependencies, there is no generated code and no protoc/grpc_cpp_plugin version to match
// against etcd's .proto files, and the wire format can be checked with curl.
// Limits: plain http only (no TLS, no auth tokens); no leases; one HTTP connection per watch
// (no multiplexing); JSON and base64 cost CPU: a full read of 120k keys (10k services with 10
// endpoints each) takes about 3 s on a 2-core host, 60% of it etcd rendering JSON, where
// etcdctl over gRPC needs about 0.4 s. Endpoints are tried in order, with no member discovery. A
// request that failed before any response byte arrived is sent once more (on a fresh
// connection or the next endpoint); if the first copy was in fact applied, a create-only txn
// then reports a conflict.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/etcd/etcd_types.h"
#include "userspace/etcd/etcd_watch.h"
#include "userspace/etcd/http_connection.h"

namespace weft::etcd {

struct ClientOptions {
  std::vector<std::string> endpoints{"http://127.0.0.1:2379"};
  // Bounds each call as a whole, retries included.
  std::chrono::milliseconds timeout{5000};
  uint64_t max_response_bytes = 256ull * 1024 * 1024;
};

// Thread-safe: calls share a small pool of keep-alive connections. Errors name the operation
// and key and carry etcd's own error text. Codes: the errno of a transport failure
// (ECONNREFUSED, ETIMEDOUT, ...); for etcd's refusals EAGAIN (unavailable), ERANGE (revision
// compacted), E2BIG (too large), EPROTO (bad request or bad reply), EIO (anything else).
class Client {
 public:
  static Result<std::unique_ptr<Client>> create(const ClientOptions& options);

  Result<RangeResponse> range(const RangeRequest& request);
  // Returns the revision of the write.
  Result<int64_t> put(const std::string& key, const std::string& value);
  Result<DeleteResponse> deleteRange(const std::string& key, const std::string& range_end = {});
  Result<TxnResponse> txn(const Txn& txn);

  // Starts `stream` (see WatchStream::start) on the first endpoint that accepts it, within
  // the call timeout. The caller owns the stream, so it can close() it from another thread.
  Status watch(WatchStream& stream, const std::string& key, const std::string& range_end,
               int64_t start_revision);

  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  Client(std::vector<HttpEndpoint> endpoints, std::chrono::milliseconds timeout,
         uint64_t max_response_bytes)
      : endpoints_(std::move(endpoints)),
        timeout_(timeout),
        max_response_bytes_(max_response_bytes) {}

  // POSTs to `path` and returns the body of a 200 reply; `what` names the call for errors.
  Result<std::string> call(std::string_view path, const std::string& body, const std::string& what);
  std::unique_ptr<HttpConnection> takeConnection(size_t* endpoint_index);
  void giveBack(std::unique_ptr<HttpConnection> conn, size_t endpoint_index);
  void failOver(size_t from_index);
  void dropIdle();

  const std::vector<HttpEndpoint> endpoints_;
  const std::chrono::milliseconds timeout_;
  const uint64_t max_response_bytes_;

  std::mutex mu_;
  size_t current_ = 0;                                 // index of the endpoint in use
  std::vector<std::unique_ptr<HttpConnection>> idle_;  // all to endpoints_[current_]
};

}  // namespace weft::etcd
