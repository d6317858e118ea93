// SPDX-License-Identifier: Apache-2.0
// Shared fixture for controller tests: an in-memory map store, builders for services, and a
// watcher that checks after every single map write what a concurrent connect could see.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "userspace/common/log.h"
#include "userspace/controller/controller.h"
#include "userspace/controller/memory_map_store.h"

namespace weft::testing_util {

using Op = MemoryMapStore::Op;
using OpKind = MemoryMapStore::OpKind;

inline BackendConfig backend(const char* address, uint16_t port) {
  auto addr = IpAddr::parse(address);
  EXPECT_TRUE(addr.ok()) << address;
  return BackendConfig{addr.ok() ? *addr : IpAddr{}, port};
}

inline ServiceConfig service(std::string name, const char* vip, uint16_t port,
                             std::vector<BackendConfig> backends, uint8_t protocol = WEFT_PROTO_TCP,
                             weft_lb_algo algorithm = WEFT_LB_ROUND_ROBIN) {
  auto addr = IpAddr::parse(vip);
  EXPECT_TRUE(addr.ok()) << vip;
  return ServiceConfig{std::move(name), addr.ok() ? *addr : IpAddr{}, port, protocol,
                       algorithm,       std::move(backends)};
}

inline std::string opsText(const std::vector<Op>& ops) {
  std::string out;
  for (const Op& op : ops) {
    out += "  " + toString(op) + "\n";
  }
  return out;
}

class ControllerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    log::setLevel(log::Level::kError);
    store_.setObserver([this](const Op& op) { checkReaders(op); });
    snapshot_ = readerView();
  }

  void TearDown() override {
    for (const std::string& v : violations_) {
      ADD_FAILURE() << v;
    }
  }

  ApplySummary applyOk(Controller& ctl, const std::vector<ServiceConfig>& services) {
    auto summary = ctl.apply(services);
    EXPECT_TRUE(summary.ok()) << summary.error().message;
    return summary.ok() ? *summary : ApplySummary{};
  }
  ApplySummary applyOk(const std::vector<ServiceConfig>& services) {
    return applyOk(ctl_, services);
  }

  weft_svc_value valueOf(const ServiceConfig& svc) const {
    auto value = store_.service(encodeServiceKey(svc));
    EXPECT_TRUE(value.has_value()) << svc.name;
    return value.value_or(weft_svc_value{});
  }

  // Backend ids in the half a reader would use now.
  std::vector<uint32_t> activeIds(const ServiceConfig& svc) const {
    return halfIds(valueOf(svc).svc_id, valueOf(svc).half, valueOf(svc).count);
  }

  std::vector<uint32_t> halfIds(uint32_t svc_id, uint8_t half, uint16_t count) const {
    std::vector<uint32_t> ids;
    for (uint16_t i = 0; i < count; ++i) {
      auto slot = store_.slot(svc_id, half, i);
      ids.push_back(slot ? slot->backend_id : 0);
    }
    return ids;
  }

  // The backends a reader would balance over, as text.
  std::vector<std::string> activeBackends(const ServiceConfig& svc) const {
    std::vector<std::string> out;
    for (uint32_t id : activeIds(svc)) {
      auto be = store_.backend(id);
      out.push_back(be ? formatBackend(*be) : "missing backend " + std::to_string(id));
    }
    return out;
  }

  static std::vector<std::string> expectedBackends(const ServiceConfig& svc) {
    std::vector<std::string> out;
    for (const BackendConfig& be : svc.backends) {
      out.push_back(formatBackend(encodeBackend(be, svc.protocol, WEFT_BE_ACTIVE)));
    }
    return out;
  }

  size_t indexOf(OpKind kind, size_t from = 0) const {
    const auto& ops = store_.ops();
    for (size_t i = from; i < ops.size(); ++i) {
      if (ops[i].kind == kind) {
        return i;
      }
    }
    return ops.size();
  }

  size_t countOf(OpKind kind) const {
    size_t n = 0;
    for (const Op& op : store_.ops()) {
      n += op.kind == kind ? 1 : 0;
    }
    return n;
  }

  MemoryMapStore store_;
  Controller ctl_{store_};
  bool check_readers_ = true;

 private:
  // Per service key: the value bytes and the backend ids of its active half.
  using ReaderView = std::map<std::string, std::pair<std::string, std::vector<uint32_t>>>;

  ReaderView readerView() const {
    ReaderView view;
    auto services = store_.listServices();
    for (const auto& [key, value] : *services) {
      std::string value_bytes(reinterpret_cast<const char*>(&value), sizeof(value));
      view[formatServiceKey(key)] = {value_bytes, halfIds(value.svc_id, value.half, value.count)};
    }
    return view;
  }

  // After any write: every active slot and Maglev slot exists, every slot and member names an
  // existing backend, and no service whose value a reader may hold saw its active backend list
  // change under it.
  void checkReaders(const Op& op) {
    if (!check_readers_) {
      return;
    }
    ReaderView now = readerView();
    std::string where = "after " + toString(op) + ": ";

    for (const auto& [key, entry] : now) {
      for (size_t i = 0; i < entry.second.size(); ++i) {
        if (entry.second[i] == 0) {
          violations_.push_back(where + key + " active slot " + std::to_string(i) + " missing");
        }
      }
      auto before = snapshot_.find(key);
      if (before != snapshot_.end() && before->second.first == entry.first &&
          before->second.second != entry.second) {
        violations_.push_back(where + key + " active half changed without a flip");
      }
    }
    auto services = store_.listServices();
    for (const auto& [key, value] : *services) {
      for (uint32_t i = 0; i < value.maglev_size; ++i) {
        auto id = store_.maglevSlot(value.svc_id, i);
        if (!id || !store_.backend(*id)) {
          violations_.push_back(where + formatServiceKey(key) + " maglev slot " +
                                std::to_string(i) + " is missing or names a missing backend");
          break;
        }
      }
    }
    auto members = store_.listMembers();
    for (const auto& [key, value] : *members) {
      if (!store_.backend(key.backend_id)) {
        violations_.push_back(where + "member of svc " + std::to_string(key.svc_id) +
                              " names missing backend " + std::to_string(key.backend_id));
      }
    }
    auto slots = store_.listSlots();
    for (const auto& [key, value] : *slots) {
      if (!store_.backend(value.backend_id)) {
        violations_.push_back(where + "slot of svc " + std::to_string(key.svc_id) +
                              " names missing backend " + std::to_string(value.backend_id));
      }
    }
    snapshot_ = std::move(now);
  }

  ReaderView snapshot_;
  std::vector<std::string> violations_;
};

}  // namespace weft::testing_util
