// SPDX-License-Identifier: Apache-2.0
// WatchStream: line framing and watch-message handling over a streaming HTTP response.
#include "userspace/etcd/etcd_watch.h"

#include <fmt/format.h>
#include <cerrno>

#include "userspace/etcd/etcd_wire.h"

namespace weft::etcd {
namespace {

// One watch message holds at most one revision's events plus framing; etcd caps a request
// at 1.5 MiB by default, so a line this long means a broken stream.
constexpr size_t kMaxLineBytes = 64 * 1024 * 1024;

Error canceledError(const HttpEndpoint& endpoint, const wire::WatchMessage& message) {
  if (message.compact_revision > 0) {
    return makeError(fmt::format("etcd {}: watch canceled: revision compacted up to {}",
                                 endpoint.toString(), message.compact_revision),
                     ERANGE);
  }
  return makeError(
      fmt::format("etcd {}: watch canceled: {}", endpoint.toString(),
                  message.cancel_reason.empty() ? "no reason given" : message.cancel_reason),
      ECONNRESET);
}

}  // namespace

Status WatchStream::start(const HttpEndpoint& endpoint, const std::string& key,
                          const std::string& range_end, int64_t start_revision,
                          Clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    if (closed_.load() || conn_) {
      return makeError(fmt::format("etcd {}: watch: closed", endpoint.toString()), ECANCELED);
    }
    conn_ = std::make_unique<HttpConnection>(endpoint);
  }
  // gRPC metadata through the gateway: etcd then cancels the watch when this member loses
  // its leader, instead of leaving it silent while the cluster moves on without it.
  const HttpHeaders require_leader = {{"Grpc-Metadata-hasleader", "true"}};
  Status begun = conn_->beginStream(std::string(wire::kWatchPath),
                                    wire::encodeWatchCreate(key, range_end, start_revision),
                                    deadline, require_leader);
  if (!begun) {
    return begun;
  }

  // The first message confirms the watch, or cancels it when the revision is compacted.
  auto line = nextLine(deadline);
  if (!line) {
    return line.error();
  }
  auto message = wire::decodeWatchMessage(*line);
  if (!message) {
    return message.error();
  }
  if (!message->error.empty()) {
    return makeError(fmt::format("etcd {}: watch: {}", endpoint.toString(), message->error),
                     EPROTO);
  }
  if (message->canceled) {
    return canceledError(endpoint, *message);
  }
  if (!message->created) {
    return makeError(
        fmt::format("etcd {}: watch: first message is not a confirmation", endpoint.toString()),
        EPROTO);
  }
  created_revision_ = message->revision;
  return {};
}

void WatchStream::close() {
  std::lock_guard lock(mu_);
  closed_.store(true);
  if (conn_) {
    conn_->abort();
  }
}

std::string WatchStream::endpointName() const {
  return conn_ ? conn_->endpoint().toString() : "(not started)";
}

Result<WatchBatch> WatchStream::next() {
  if (!conn_) {
    return makeError("etcd watch: next() before start()", EINVAL);
  }
  while (true) {
    auto line = nextLine(std::nullopt);
    if (!line) {
      return line.error();
    }
    auto message = wire::decodeWatchMessage(*line);
    if (!message) {
      return message.error();
    }
    if (!message->error.empty()) {
      return makeError(fmt::format("etcd {}: watch: {}", endpointName(), message->error),
                       ECONNRESET);
    }
    if (message->canceled) {
      return canceledError(conn_->endpoint(), *message);
    }
    // Progress notifications carry no events; nothing changed.
    if (!message->events.empty()) {
      return WatchBatch{message->revision, std::move(message->events)};
    }
  }
}

Result<std::string> WatchStream::nextLine(std::optional<Clock::time_point> deadline) {
  while (true) {
    size_t newline = pending_.find('\n', scanned_);
    if (newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      scanned_ = 0;
      if (line.find_first_not_of(" \r\t") == std::string::npos) {
        continue;
      }
      return line;
    }

    scanned_ = pending_.size();
    if (pending_.size() > kMaxLineBytes) {
      return makeError(
          fmt::format("etcd {}: watch message longer than {} bytes", endpointName(), kMaxLineBytes),
          EPROTO);
    }

    auto bytes = conn_->readStream(deadline);
    if (!bytes) {
      return bytes.error();
    }
    pending_ += *bytes;
  }
}

}  // namespace weft::etcd
