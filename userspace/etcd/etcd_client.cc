// SPDX-License-Identifier: Apache-2.0
// Client: connection pool, failover and error context around the gateway calls.
#include "userspace/etcd/etcd_client.h"

#include <fmt/format.h>
#include <cerrno>

#include "userspace/etcd/etcd_wire.h"

namespace weft::etcd {
namespace {

constexpr size_t kMaxIdleConnections = 8;

// gRPC status codes that etcd returns, as the errno that callers can act on.
int errnoForGrpcCode(int code) {
  switch (code) {
    case 4:  // DEADLINE_EXCEEDED
      return ETIMEDOUT;
    case 8:  // RESOURCE_EXHAUSTED
      return E2BIG;
    case 11:  // OUT_OF_RANGE: compacted or future revision
      return ERANGE;
    case 14:  // UNAVAILABLE: no leader, server stopping
      return EAGAIN;
    case 3:  // INVALID_ARGUMENT
      return EPROTO;
    default:
      return EIO;
  }
}

int grpcCodeOf(std::string_view body) {
  size_t at = body.find("\"code\":");
  if (at == std::string_view::npos) {
    return -1;
  }
  int code = 0;
  bool any = false;
  for (size_t i = at + 7; i < body.size() && body[i] >= '0' && body[i] <= '9'; ++i) {
    code = code * 10 + (body[i] - '0');
    any = true;
  }
  return any ? code : -1;
}

std::string printable(const std::string& key) {
  std::string out;
  for (char c : key) {
    bool plain = c >= 0x20 && c < 0x7f;
    out += plain ? std::string(1, c) : fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string describeRange(const std::string& key, const std::string& range_end) {
  if (range_end.empty()) {
    return printable(key);
  }
  return fmt::format("[{}, {})", printable(key), printable(range_end));
}

std::string describeTxn(const Txn& txn) {
  std::vector<std::string> keys;
  for (const Compare& c : txn.compares) {
    keys.push_back(c.key);
  }
  for (const Op& op : txn.success) {
    keys.push_back(op.key);
  }
  if (keys.empty()) {
    return "txn";
  }
  std::string out = "txn on " + printable(keys.front());
  if (keys.size() > 1) {
    out += fmt::format(" (+{} keys)", keys.size() - 1);
  }
  return out;
}

template <typename T>
Result<T> withContext(Result<T> result, const std::string& what) {
  if (result.ok()) {
    return result;
  }
  return makeError(fmt::format("etcd {}: {}", what, result.error().message), result.error().code);
}

}  // namespace

Result<std::unique_ptr<Client>> Client::create(const ClientOptions& options) {
  if (options.endpoints.empty()) {
    return makeError("etcd endpoints: empty list", EINVAL);
  }
  if (options.timeout.count() <= 0) {
    return makeError(fmt::format("etcd timeout: {} ms is not positive", options.timeout.count()),
                     EINVAL);
  }
  std::vector<HttpEndpoint> endpoints;
  for (const std::string& url : options.endpoints) {
    auto endpoint = HttpEndpoint::parse(url);
    if (!endpoint) {
      return endpoint.error();
    }
    endpoints.push_back(std::move(*endpoint));
  }
  return std::unique_ptr<Client>(
      new Client(std::move(endpoints), options.timeout, options.max_response_bytes));
}

std::unique_ptr<HttpConnection> Client::takeConnection(size_t* endpoint_index) {
  std::lock_guard lock(mu_);
  *endpoint_index = current_;
  if (!idle_.empty()) {
    auto conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }
  return std::make_unique<HttpConnection>(endpoints_[current_]);
}

void Client::giveBack(std::unique_ptr<HttpConnection> conn, size_t endpoint_index) {
  std::lock_guard lock(mu_);
  if (endpoint_index == current_ && idle_.size() < kMaxIdleConnections) {
    idle_.push_back(std::move(conn));
  }
}

void Client::dropIdle() {
  std::lock_guard lock(mu_);
  idle_.clear();
}

void Client::failOver(size_t from_index) {
  std::lock_guard lock(mu_);
  // Another call may have moved on already.
  if (current_ == from_index && endpoints_.size() > 1) {
    current_ = (current_ + 1) % endpoints_.size();
    idle_.clear();
  }
}

Result<std::string> Client::call(std::string_view path, const std::string& body,
                                 const std::string& what) {
  auto deadline = Clock::now() + timeout_;
  // One try per endpoint plus one for a keep-alive connection the server closed while idle.
  size_t attempts = endpoints_.size() + 1;
  Error last = makeError("no attempt made", ETIMEDOUT);

  for (size_t attempt = 0; attempt < attempts && Clock::now() < deadline; ++attempt) {
    size_t index = 0;
    auto conn = takeConnection(&index);
    auto reply = conn->post(std::string(path), body, deadline, max_response_bytes_);

    if (reply.ok()) {
      if (conn->reusable()) {
        giveBack(std::move(conn), index);
      }
      if (reply->status == 200) {
        return std::move(reply->body);
      }
      int code = grpcCodeOf(reply->body);
      return makeError(fmt::format("etcd {} ({}): {} (HTTP {})", what, endpoints_[index].toString(),
                                   wire::errorText(reply->body), reply->status),
                       code >= 0 ? errnoForGrpcCode(code) : EIO);
    }

    last = reply.error();
    // Once the server may have seen the request, sending it again could apply it twice.
    if (!conn->failedBeforeResponse()) {
      break;
    }
    if (conn->reused()) {
      // The server closed it while idle (a restart, say): the other idle ones are as stale.
      dropIdle();
    } else {
      failOver(index);
    }
  }
  return makeError(fmt::format("etcd {}: {}", what, last.message), last.code);
}

Result<RangeResponse> Client::range(const RangeRequest& request) {
  std::string what = "range " + describeRange(request.key, request.range_end);
  auto body = call(wire::kRangePath, wire::encodeRange(request), what);
  if (!body) {
    return body.error();
  }
  return withContext(wire::decodeRange(*body), what);
}

Result<int64_t> Client::put(const std::string& key, const std::string& value) {
  std::string what = "put " + printable(key);
  auto body = call(wire::kPutPath, wire::encodePut(key, value), what);
  if (!body) {
    return body.error();
  }
  return withContext(wire::decodePut(*body), what);
}

Result<DeleteResponse> Client::deleteRange(const std::string& key, const std::string& range_end) {
  std::string what = "delete " + describeRange(key, range_end);
  auto body = call(wire::kDeleteRangePath, wire::encodeDeleteRange(key, range_end), what);
  if (!body) {
    return body.error();
  }
  return withContext(wire::decodeDeleteRange(*body), what);
}

Result<TxnResponse> Client::txn(const Txn& txn) {
  std::string what = describeTxn(txn);
  auto body = call(wire::kTxnPath, wire::encodeTxn(txn), what);
  if (!body) {
    return body.error();
  }
  return withContext(wire::decodeTxn(*body), what);
}

Status Client::watch(WatchStream& stream, const std::string& key, const std::string& range_end,
                     int64_t start_revision) {
  std::string what = "watch " + describeRange(key, range_end);
  size_t index = 0;
  {
    std::lock_guard lock(mu_);
    index = current_;
  }

  // A stream starts once, so a failed start moves the next watch to the next endpoint.
  Status started =
      stream.start(endpoints_[index], key, range_end, start_revision, Clock::now() + timeout_);
  if (started.ok()) {
    return started;
  }
  // A compacted revision is the caller's to handle; another member would say the same.
  if (started.error().code != ERANGE && started.error().code != ECANCELED) {
    failOver(index);
  }
  return makeError(fmt::format("etcd {}: {}", what, started.error().message), started.error().code);
}

}  // namespace weft::etcd
