// SPDX-License-Identifier: Apache-2.0
// Constructors of the common compares and ops, and prefix ranges.
#include "userspace/etcd/etcd_types.h"

#include <utility>

namespace weft::etcd {

RangeRequest RangeRequest::single(std::string key) {
  RangeRequest out;
  out.key = std::move(key);
  return out;
}

RangeRequest RangeRequest::withPrefix(const std::string& prefix) {
  RangeRequest out;
  out.key = prefix;
  out.range_end = prefixEnd(prefix);
  return out;
}

Compare Compare::absent(std::string key) {
  // create_revision is 0 for a key that does not exist at the txn's revision.
  return Compare{std::move(key), Target::kCreateRevision, Result::kEqual, 0, {}};
}

Compare Compare::present(std::string key) {
  return Compare{std::move(key), Target::kCreateRevision, Result::kGreater, 0, {}};
}

Compare Compare::modRevisionIs(std::string key, int64_t revision) {
  return Compare{std::move(key), Target::kModRevision, Result::kEqual, revision, {}};
}

Compare Compare::valueIs(std::string key, std::string value) {
  return Compare{std::move(key), Target::kValue, Result::kEqual, 0, std::move(value)};
}

Op Op::range(std::string key, std::string range_end) {
  return Op{Kind::kRange, std::move(key), std::move(range_end), {}};
}

Op Op::put(std::string key, std::string value) {
  return Op{Kind::kPut, std::move(key), {}, std::move(value)};
}

Op Op::erase(std::string key, std::string range_end) {
  return Op{Kind::kDelete, std::move(key), std::move(range_end), {}};
}

std::string prefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

}  // namespace weft::etcd
