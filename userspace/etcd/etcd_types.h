// SPDX-License-Identifier: Apache-2.0
// The parts of etcd's v3 KV and watch API that weft uses, as plain values. Keys and values
// are raw bytes here; base64 is the wire codec's business (etcd_wire.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft::etcd {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
};

struct RangeRequest {
  std::string key;
  std::string range_end;  // "" = just `key`; prefixEnd(p) = every key starting with p
  int64_t revision = 0;   // 0 = the newest
  int64_t limit = 0;      // 0 = no limit
  bool count_only = false;
  bool keys_only = false;  // values left out

  static RangeRequest single(std::string key);
  // Every key that starts with `prefix`.
  static RangeRequest withPrefix(const std::string& prefix);
};

struct RangeResponse {
  std::vector<KeyValue> kvs;
  bool more = false;  // a `limit` cut the result
  int64_t count = 0;  // keys in the whole range, not only those returned
  int64_t revision = 0;
};

struct DeleteResponse {
  int64_t deleted = 0;
  int64_t revision = 0;
};

// One condition of a transaction, comparing one key's field with a number or bytes.
struct Compare {
  enum class Target { kVersion, kCreateRevision, kModRevision, kValue };
  enum class Result { kEqual, kNotEqual, kGreater, kLess };

  std::string key;
  Target target = Target::kVersion;
  Result result = Result::kEqual;
  int64_t number = 0;  // for kVersion, kCreateRevision, kModRevision
  std::string value;   // for kValue

  // The key does not exist (never created, or deleted).
  static Compare absent(std::string key);
  // The key exists.
  static Compare present(std::string key);
  static Compare modRevisionIs(std::string key, int64_t revision);
  static Compare valueIs(std::string key, std::string value);
};

struct Op {
  enum class Kind { kRange, kPut, kDelete };

  Kind kind = Kind::kRange;
  std::string key;
  std::string range_end;  // kRange and kDelete
  std::string value;      // kPut

  static Op range(std::string key, std::string range_end = {});
  static Op put(std::string key, std::string value);
  static Op erase(std::string key, std::string range_end = {});
};

struct OpResponse {
  Op::Kind kind = Op::Kind::kRange;
  std::vector<KeyValue> kvs;  // kRange
  int64_t deleted = 0;        // kDelete
};

// If every compare holds, `success` runs, else `failure`; atomically, at one revision.
struct Txn {
  std::vector<Compare> compares;
  std::vector<Op> success;
  std::vector<Op> failure;
};

struct TxnResponse {
  bool succeeded = false;
  int64_t revision = 0;  // the store revision after the txn (unchanged if nothing was written)
  std::vector<OpResponse> responses;  // one per op of the branch that ran
};

struct WatchEvent {
  enum class Type { kPut, kDelete };

  Type type = Type::kPut;
  KeyValue kv;
};

// The smallest key greater than every key that starts with `prefix`: the range_end that
// selects the whole prefix. "\0" (every key) when no such key exists.
std::string prefixEnd(const std::string& prefix);

}  // namespace weft::etcd
