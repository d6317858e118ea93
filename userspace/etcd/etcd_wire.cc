// SPDX-License-Identifier: Apache-2.0
// JSON encoding and decoding of etcd gateway messages with nlohmann-json.
#include "userspace/etcd/etcd_wire.h"

#include <fmt/format.h>
#include <cerrno>
#include <charconv>
#include <nlohmann/json.hpp>

#include "userspace/etcd/base64.h"

namespace weft::etcd::wire {

using nlohmann::json;

namespace {

Error badReply(std::string_view what) {
  return makeError(fmt::format("etcd reply: {}", what), EPROTO);
}

Result<json> parseObject(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return badReply(fmt::format("not a JSON object: {}", body.substr(0, 200)));
  }
  return doc;
}

// Absent means 0: the gateway leaves out fields that hold their default value.
Result<int64_t> int64Field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) {
    return int64_t{0};
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) {
      return value;
    }
  }
  return badReply(fmt::format("field {}: {} is not an int64", name, it->dump()));
}

bool boolField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

Result<std::string> bytesField(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end()) {
    return std::string();
  }
  if (!it->is_string()) {
    return badReply(fmt::format("field {}: not a string", name));
  }
  auto decoded = base64Decode(it->get_ref<const std::string&>());
  if (!decoded) {
    return badReply(fmt::format("field {}: not base64", name));
  }
  return *decoded;
}

Result<KeyValue> decodeKv(const json& object) {
  if (!object.is_object()) {
    return badReply("kv: not an object");
  }
  auto key = bytesField(object, "key");
  if (!key) {
    return key.error();
  }
  auto value = bytesField(object, "value");
  if (!value) {
    return value.error();
  }
  auto create = int64Field(object, "create_revision");
  if (!create) {
    return create.error();
  }
  auto mod = int64Field(object, "mod_revision");
  if (!mod) {
    return mod.error();
  }
  auto version = int64Field(object, "version");
  if (!version) {
    return version.error();
  }

  KeyValue kv;
  kv.key = std::move(*key);
  kv.value = std::move(*value);
  kv.create_revision = *create;
  kv.mod_revision = *mod;
  kv.version = *version;
  return kv;
}

Result<std::vector<KeyValue>> decodeKvs(const json& object) {
  std::vector<KeyValue> out;
  auto it = object.find("kvs");
  if (it == object.end()) {
    return out;
  }
  if (!it->is_array()) {
    return badReply("kvs: not an array");
  }
  out.reserve(it->size());
  for (const json& item : *it) {
    auto kv = decodeKv(item);
    if (!kv) {
      return kv.error();
    }
    out.push_back(std::move(*kv));
  }
  return out;
}

Result<int64_t> headerRevision(const json& object) {
  auto it = object.find("header");
  if (it == object.end() || !it->is_object()) {
    return badReply("missing header");
  }
  return int64Field(*it, "revision");
}

const char* targetName(Compare::Target target) {
  switch (target) {
    case Compare::Target::kVersion:
      return "VERSION";
    case Compare::Target::kCreateRevision:
      return "CREATE";
    case Compare::Target::kModRevision:
      return "MOD";
    case Compare::Target::kValue:
      return "VALUE";
  }
  return "VERSION";
}

const char* resultName(Compare::Result result) {
  switch (result) {
    case Compare::Result::kEqual:
      return "EQUAL";
    case Compare::Result::kNotEqual:
      return "NOT_EQUAL";
    case Compare::Result::kGreater:
      return "GREATER";
    case Compare::Result::kLess:
      return "LESS";
  }
  return "EQUAL";
}

json encodeCompare(const Compare& compare) {
  json out = {{"key", base64Encode(compare.key)},
              {"target", targetName(compare.target)},
              {"result", resultName(compare.result)}};
  switch (compare.target) {
    case Compare::Target::kVersion:
      out["version"] = std::to_string(compare.number);
      break;
    case Compare::Target::kCreateRevision:
      out["create_revision"] = std::to_string(compare.number);
      break;
    case Compare::Target::kModRevision:
      out["mod_revision"] = std::to_string(compare.number);
      break;
    case Compare::Target::kValue:
      out["value"] = base64Encode(compare.value);
      break;
  }
  return out;
}

json encodeOp(const Op& op) {
  json body = {{"key", base64Encode(op.key)}};
  switch (op.kind) {
    case Op::Kind::kRange:
      if (!op.range_end.empty()) {
        body["range_end"] = base64Encode(op.range_end);
      }
      return {{"request_range", body}};
    case Op::Kind::kPut:
      body["value"] = base64Encode(op.value);
      return {{"request_put", body}};
    case Op::Kind::kDelete:
      if (!op.range_end.empty()) {
        body["range_end"] = base64Encode(op.range_end);
      }
      return {{"request_delete_range", body}};
  }
  return body;
}

Result<OpResponse> decodeOpResponse(const json& item) {
  OpResponse out;
  if (!item.is_object()) {
    return badReply("txn response: not an object");
  }
  if (auto it = item.find("response_range"); it != item.end()) {
    out.kind = Op::Kind::kRange;
    auto kvs = decodeKvs(*it);
    if (!kvs) {
      return kvs.error();
    }
    out.kvs = std::move(*kvs);
  } else if (auto put = item.find("response_put"); put != item.end()) {
    out.kind = Op::Kind::kPut;
  } else if (auto del = item.find("response_delete_range"); del != item.end()) {
    out.kind = Op::Kind::kDelete;
    auto deleted = int64Field(*del, "deleted");
    if (!deleted) {
      return deleted.error();
    }
    out.deleted = *deleted;
  } else {
    return badReply(fmt::format("txn response: unknown op {}", item.dump().substr(0, 200)));
  }
  return out;
}

}  // namespace

std::string encodeRange(const RangeRequest& request) {
  json out = {{"key", base64Encode(request.key)}};
  if (!request.range_end.empty()) {
    out["range_end"] = base64Encode(request.range_end);
  }
  if (request.revision > 0) {
    out["revision"] = std::to_string(request.revision);
  }
  if (request.limit > 0) {
    out["limit"] = std::to_string(request.limit);
  }
  if (request.count_only) {
    out["count_only"] = true;
  }
  if (request.keys_only) {
    out["keys_only"] = true;
  }
  return out.dump();
}

std::string encodePut(const std::string& key, const std::string& value) {
  return json{{"key", base64Encode(key)}, {"value", base64Encode(value)}}.dump();
}

std::string encodeDeleteRange(const std::string& key, const std::string& range_end) {
  json out = {{"key", base64Encode(key)}};
  if (!range_end.empty()) {
    out["range_end"] = base64Encode(range_end);
  }
  return out.dump();
}

std::string encodeTxn(const Txn& txn) {
  json compares = json::array();
  for (const Compare& c : txn.compares) {
    compares.push_back(encodeCompare(c));
  }
  json success = json::array();
  for (const Op& op : txn.success) {
    success.push_back(encodeOp(op));
  }
  json failure = json::array();
  for (const Op& op : txn.failure) {
    failure.push_back(encodeOp(op));
  }
  return json{{"compare", compares}, {"success", success}, {"failure", failure}}.dump();
}

std::string encodeWatchCreate(const std::string& key, const std::string& range_end,
                              int64_t start_revision) {
  json create = {{"key", base64Encode(key)}, {"range_end", base64Encode(range_end)}};
  if (start_revision > 0) {
    create["start_revision"] = std::to_string(start_revision);
  }
  return json{{"create_request", create}}.dump();
}

Result<RangeResponse> decodeRange(std::string_view body) {
  auto doc = parseObject(body);
  if (!doc) {
    return doc.error();
  }
  RangeResponse out;
  auto revision = headerRevision(*doc);
  auto count = int64Field(*doc, "count");
  auto kvs = decodeKvs(*doc);
  if (!revision || !count || !kvs) {
    return !revision ? revision.error() : !count ? count.error() : kvs.error();
  }
  out.revision = *revision;
  out.count = *count;
  out.kvs = std::move(*kvs);
  out.more = boolField(*doc, "more");
  return out;
}

Result<int64_t> decodePut(std::string_view body) {
  auto doc = parseObject(body);
  if (!doc) {
    return doc.error();
  }
  return headerRevision(*doc);
}

Result<DeleteResponse> decodeDeleteRange(std::string_view body) {
  auto doc = parseObject(body);
  if (!doc) {
    return doc.error();
  }
  auto revision = headerRevision(*doc);
  auto deleted = int64Field(*doc, "deleted");
  if (!revision || !deleted) {
    return !revision ? revision.error() : deleted.error();
  }
  return DeleteResponse{*deleted, *revision};
}

Result<TxnResponse> decodeTxn(std::string_view body) {
  auto doc = parseObject(body);
  if (!doc) {
    return doc.error();
  }
  auto revision = headerRevision(*doc);
  if (!revision) {
    return revision.error();
  }
  TxnResponse out;
  out.revision = *revision;
  out.succeeded = boolField(*doc, "succeeded");

  auto it = doc->find("responses");
  if (it != doc->end()) {
    if (!it->is_array()) {
      return badReply("responses: not an array");
    }
    for (const json& item : *it) {
      auto op = decodeOpResponse(item);
      if (!op) {
        return op.error();
      }
      out.responses.push_back(std::move(*op));
    }
  }
  return out;
}

Result<WatchMessage> decodeWatchMessage(std::string_view line) {
  auto doc = parseObject(line);
  if (!doc) {
    return doc.error();
  }
  WatchMessage out;
  if (auto err = doc->find("error"); err != doc->end()) {
    out.error = err->is_object() && err->contains("message") && (*err)["message"].is_string()
                    ? (*err)["message"].get<std::string>()
                    : err->dump();
    return out;
  }

  auto result = doc->find("result");
  if (result == doc->end() || !result->is_object()) {
    return badReply(fmt::format("watch: no result in {}", line.substr(0, 200)));
  }
  auto revision = headerRevision(*result);
  auto compact = int64Field(*result, "compact_revision");
  if (!revision || !compact) {
    return !revision ? revision.error() : compact.error();
  }
  out.revision = *revision;
  out.compact_revision = *compact;
  out.created = boolField(*result, "created");
  out.canceled = boolField(*result, "canceled");
  if (auto reason = result->find("cancel_reason"); reason != result->end() && reason->is_string()) {
    out.cancel_reason = reason->get<std::string>();
  }

  auto events = result->find("events");
  if (events == result->end()) {
    return out;
  }
  if (!events->is_array()) {
    return badReply("watch: events: not an array");
  }
  for (const json& item : *events) {
    WatchEvent event;
    auto type = item.find("type");
    // PUT is the enum's zero value, which the gateway leaves out.
    if (type != item.end() && type->is_string() && type->get<std::string>() == "DELETE") {
      event.type = WatchEvent::Type::kDelete;
    }
    auto kv = item.find("kv");
    if (kv == item.end()) {
      return badReply("watch: event without kv");
    }
    auto decoded = decodeKv(*kv);
    if (!decoded) {
      return decoded.error();
    }
    event.kv = std::move(*decoded);
    out.events.push_back(std::move(event));
  }
  return out;
}

std::string errorText(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (!doc.is_discarded() && doc.is_object()) {
    auto message = doc.find("message");
    if (message == doc.end()) {
      message = doc.find("error");
    }
    if (message != doc.end() && message->is_string()) {
      std::string text = message->get<std::string>();
      if (auto code = doc.find("code"); code != doc.end() && code->is_number_integer()) {
        text += fmt::format(" (grpc code {})", code->get<int>());
      }
      return text;
    }
  }
  return std::string(body.substr(0, 300));
}

}  // namespace weft::etcd::wire
