// SPDX-License-Identifier: Apache-2.0
// The JSON shapes of etcd's grpc-gateway (etcd 3.4, paths under /v3/): requests out,
// responses in. int64 fields travel as JSON strings; keys and values as base64.
#pragma once

#include <string>
#include <string_view>

#include "userspace/common/result.h"
#include "userspace/etcd/etcd_types.h"

namespace weft::etcd::wire {

inline constexpr std::string_view kRangePath = "/v3/kv/range";
inline constexpr std::string_view kPutPath = "/v3/kv/put";
inline constexpr std::string_view kDeleteRangePath = "/v3/kv/deleterange";
inline constexpr std::string_view kTxnPath = "/v3/kv/txn";
inline constexpr std::string_view kWatchPath = "/v3/watch";

std::string encodeRange(const RangeRequest& request);
std::string encodePut(const std::string& key, const std::string& value);
std::string encodeDeleteRange(const std::string& key, const std::string& range_end);
std::string encodeTxn(const Txn& txn);
std::string encodeWatchCreate(const std::string& key, const std::string& range_end,
                              int64_t start_revision);

// Decoders fail with a message that names the field that was missing or malformed.
Result<RangeResponse> decodeRange(std::string_view body);
Result<int64_t> decodePut(std::string_view body);  // the revision of the write
Result<DeleteResponse> decodeDeleteRange(std::string_view body);
Result<TxnResponse> decodeTxn(std::string_view body);

// One message of the watch stream (one line of the gateway's newline-delimited JSON).
struct WatchMessage {
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // set when the start revision was compacted away
  std::string cancel_reason;
  std::string error;  // a stream-level error reported by the gateway
  int64_t revision = 0;
  std::vector<WatchEvent> events;
};
Result<WatchMessage> decodeWatchMessage(std::string_view line);

// etcd's error reply ({"error": "...", "message": "...", "code": N}) as readable text; the
// raw body (cut short) when it is not one.
std::string errorText(std::string_view body);

}  // namespace weft::etcd::wire
