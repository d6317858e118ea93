// SPDX-License-Identifier: Apache-2.0
// One etcd watch: a streaming POST to the gateway's /v3/watch whose response body is a
// never-ending sequence of JSON lines, one per watch message.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "userspace/common/result.h"
#include "userspace/etcd/etcd_types.h"
#include "userspace/etcd/http_connection.h"

namespace weft::etcd {

struct WatchBatch {
  int64_t revision = 0;  // the store revision when etcd sent the batch
  std::vector<WatchEvent> events;
};

// start() and next() belong to one thread; close() may be called from any thread at any
// time, also before start(), so an owner can stop a watch that is still connecting.
class WatchStream {
 public:
  WatchStream() = default;
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;

  // Opens a watch on [key, range_end) that reports changes from `start_revision` on (0 = from
  // now) and waits by `deadline` until etcd confirms it. Call once; a failed stream is not
  // restarted, make a new one.
  Status start(const HttpEndpoint& endpoint, const std::string& key, const std::string& range_end,
               int64_t start_revision, Clock::time_point deadline);
  // The store revision at which etcd confirmed the watch: with start_revision 0, every change
  // after it is reported.
  int64_t createdRevision() const { return created_revision_; }

  // Blocks until etcd sends events. Fails when the connection drops or the server ends the
  // stream (ECONNRESET and friends), when etcd cancels the watch (ERANGE when the start
  // revision was compacted away), or after close() (ECANCELED).
  Result<WatchBatch> next();

  // Thread-safe: makes a running or later start() or next() fail with ECANCELED.
  void close();

 private:
  Result<std::string> nextLine(std::optional<Clock::time_point> deadline);
  std::string endpointName() const;

  std::mutex mu_;  // guards setting conn_ against close()
  std::atomic<bool> closed_{false};
  std::unique_ptr<HttpConnection> conn_;
  int64_t created_revision_ = 0;
  std::string pending_;  // received bytes after the last complete line
  size_t scanned_ = 0;   // bytes of pending_ known to hold no newline
};

}  // namespace weft::etcd
