// SPDX-License-Identifier: Apache-2.0
// EtcdStore::putAll: many services and endpoints in few transactions. Each batch reads the
// keys it replaces and writes them only if none changed meanwhile (the same rule as the single
// puts); a batch that cannot be written that way falls back to the single puts, which retry,
// release a moved VIP and name the failing key.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "userspace/etcd/etcd_store.h"
#include "userspace/registry/model_json.h"
#include "userspace/registry/registry.h"

namespace weft::etcd {
namespace {

using registry::Endpoint;
using registry::Service;

// etcd refuses a txn with more than 128 operations in a branch (its default --max-txn-ops).
constexpr size_t kServicesPerTxn = 60;  // two keys each: the service and its VIP claim
constexpr size_t kEndpointsPerTxn = 120;

std::string stored(const Service& service) {
  return registry::toJson(service, registry::JsonForm::kStored).dump();
}

std::string stored(const Endpoint& endpoint) {
  return registry::toJson(endpoint, registry::JsonForm::kStored).dump();
}

const KeyValue* kvAt(const TxnResponse& response, size_t index) {
  if (index >= response.responses.size() || response.responses[index].kvs.empty()) {
    return nullptr;
  }
  return &response.responses[index].kvs.front();
}

}  // namespace

Status EtcdStore::putServiceBatch(const Service* first, size_t count) {
  Txn read;
  for (const Service* svc = first; svc != first + count; ++svc) {
    if (!svc->vip) {
      return makeError(fmt::format("service {}/{}: vip: not set", svc->ns, svc->name),
                       registry::kInvalid);
    }
    read.success.push_back(Op::range(keys_.service(svc->ns, svc->name)));
    read.success.push_back(Op::range(keys_.vip(*svc->vip)));
  }
  auto current = client_->txn(read);
  if (!current) {
    return current.error();
  }

  Txn write;
  bool simple = true;
  for (size_t i = 0; i < count && simple; ++i) {
    const Service& svc = first[i];
    std::string key = keys_.service(svc.ns, svc.name);
    std::string vip_key = keys_.vip(*svc.vip);
    std::string owner = StoreKeys::owner(svc.ns, svc.name);
    const KeyValue* existing = kvAt(*current, 2 * i);
    const KeyValue* holder = kvAt(*current, 2 * i + 1);
    // A VIP held by another service, or a service moving to a new VIP, needs the single put's
    // checks and clean-up.
    simple = (holder == nullptr && existing == nullptr) ||
             (holder != nullptr && existing != nullptr && holder->value == owner);
    write.compares.push_back(existing ? Compare::modRevisionIs(key, existing->mod_revision)
                                      : Compare::absent(key));
    write.compares.push_back(holder ? Compare::modRevisionIs(vip_key, holder->mod_revision)
                                    : Compare::absent(vip_key));
    write.success.push_back(Op::put(key, stored(svc)));
    write.success.push_back(Op::put(vip_key, owner));
  }
  if (simple) {
    auto written = client_->txn(write);
    if (!written) {
      return written.error();
    }
    if (written->succeeded) {
      return {};
    }
  }
  for (const Service* svc = first; svc != first + count; ++svc) {
    if (auto put = putService(*svc, false); !put) {
      return put.error();
    }
  }
  return {};
}

Status EtcdStore::putEndpointBatch(const Endpoint* first, size_t count) {
  Txn write;
  std::set<std::string> services;
  for (const Endpoint* ep = first; ep != first + count; ++ep) {
    services.insert(keys_.service(ep->ns, ep->service));
    write.success.push_back(Op::put(keys_.endpoint(ep->ns, ep->service, ep->id()), stored(*ep)));
  }
  for (const std::string& key : services) {
    write.compares.push_back(Compare::present(key));
  }
  auto written = client_->txn(write);
  if (!written) {
    return written.error();
  }
  if (written->succeeded) {
    return {};
  }
  // Some service is missing: the single puts say which.
  for (const Endpoint* ep = first; ep != first + count; ++ep) {
    if (auto put = putEndpoint(*ep, false); !put) {
      return put.error();
    }
  }
  return {};
}

Status EtcdStore::putAll(const std::vector<Service>& services,
                         const std::vector<Endpoint>& endpoints) {
  for (size_t i = 0; i < services.size(); i += kServicesPerTxn) {
    size_t count = std::min(kServicesPerTxn, services.size() - i);
    if (auto st = putServiceBatch(&services[i], count); !st) {
      return st;
    }
  }
  for (size_t i = 0; i < endpoints.size(); i += kEndpointsPerTxn) {
    size_t count = std::min(kEndpointsPerTxn, endpoints.size() - i);
    if (auto st = putEndpointBatch(&endpoints[i], count); !st) {
      return st;
    }
  }
  return {};
}

}  // namespace weft::etcd
