// SPDX-License-Identifier: Apache-2.0
// Agent start-up, signal handling and config reloads.
#include "userspace/agent/agent.h"

#include <arpa/inet.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <set>

#include "loader/bypass.h"
#include "loader/data_plane.h"
#include "loader/feature_probe.h"
#include "loader/pin_layout.h"
#include "userspace/agent/config_seed.h"
#include "userspace/agent/registry_sync.h"
#include "userspace/agent/startup_health.h"
#include "userspace/agent/udp_reaper_hook.h"
#include "userspace/api/api_server.h"
#include "userspace/api/listen_address.h"
#include "userspace/common/log.h"
#include "userspace/config/config_parser.h"
#include "userspace/controller/bpf_map_store.h"
#include "userspace/controller/controller.h"
#include "userspace/dns/dns_options.h"
#include "userspace/dns/dns_server.h"
#include "userspace/etcd/etcd_store.h"
#include "userspace/health/health_checker.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_store.h"

namespace weft {
namespace {

int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How long endpoints found in the pinned maps stay in service after a restart while their
// first probe is still out. Bounded so a backend that died with the old agent leaves soon.
constexpr auto kStartupGrace = std::chrono::seconds(10);

std::set<StartupHealthView::Address> adoptedBackends(const MapStore& maps) {
  std::set<StartupHealthView::Address> out;
  auto backends = maps.listBackends();
  if (!backends) {
    return out;
  }
  for (const auto& [id, backend] : *backends) {
    IpAddr addr;
    addr.family = backend.family;
    std::memcpy(addr.bytes.data(), backend.addr, backend.family == WEFT_AF_INET ? 4 : 16);
    out.insert({addr, ntohs(backend.port)});
  }
  return out;
}

std::vector<registry::Endpoint> checkedEndpoints(const registry::RegistryCache& cache) {
  std::vector<registry::Endpoint> out;
  for (const auto& [ref, entry] : cache.entries()) {
    for (const registry::Endpoint& endpoint : entry.endpoints) {
      if (endpoint.health.kind != registry::HealthCheckKind::kNone) {
        out.push_back(endpoint);
      }
    }
  }
  return out;
}

std::vector<registry::Service> cachedServices(const registry::RegistryCache& cache) {
  std::vector<registry::Service> out;
  out.reserve(cache.entries().size());
  for (const auto& [ref, entry] : cache.entries()) {
    out.push_back(entry.service);
  }
  return out;
}

}  // namespace

Agent::Agent(std::string config_path, AgentConfig config)
    : config_path_(std::move(config_path)),
      config_(std::move(config)),
      signals_(io_, SIGHUP, SIGTERM, SIGINT),
      watcher_(io_, config_path_, [this] { reload("file change"); }),
      grace_timer_(io_) {}

// The store's watch thread calls into sync_, so it stops first; the rest only runs on io_,
// which is no longer running here.
Agent::~Agent() {
  store_.reset();
  if (api_) {
    api_->stop();
  }
  dns_.reset();
  api_.reset();
  sync_.reset();
  startup_health_.reset();
  health_.reset();
}

Status Agent::start() {
  if (auto st = probeSockLbFeatures(); !st) {
    return st;
  }
  // A second weftd on the same config must stop before it re-attaches programs or writes the
  // maps the running one owns; its API socket is the quickest tell.
  if (auto st = api::prepareSocketPath(config_.api.socket); !st) {
    return st;
  }
  auto loaded = loadDataPlane({config_.bpffs_root, config_.cgroup});
  if (!loaded) {
    return loaded.error();
  }
  log::info("loader", "data plane attached",
            {{"bpffs_root", config_.bpffs_root},
             {"cgroup", config_.cgroup},
             {"maps_reused", loaded->maps_reused},
             {"links_updated", loaded->links_updated},
             {"links_created", loaded->links_created}});

  auto maps = BpfMapStore::open(PinLayout(config_.bpffs_root).mapsDir());
  if (!maps) {
    return maps.error();
  }
  map_store_ = std::move(*maps);
  controller_ = std::make_unique<Controller>(*map_store_);
  controller_->setUdpBackendRemovedHook(makeUdpReaperHook(*map_store_));
  if (auto st = controller_->adopt(); !st) {
    return st;
  }
  if (auto st = syncConfigBypass(PinLayout(config_.bpffs_root).mapsDir(), config_.bypass_cgroups);
      !st) {
    return st;
  }

  if (auto st = openRegistry(); !st) {
    return st;
  }
  if (auto st = declareConfigServices(*registry_, config_.services); !st) {
    return makeError("config services: " + st.error().message);
  }
  if (auto st = sync_->syncNow("start"); !st) {
    return st;
  }
  if (auto st = startServers(); !st) {
    return st;
  }
  if (auto st = watcher_.start(); !st) {
    // Reload on SIGHUP still works; only the automatic pick-up of edits is lost.
    log::warn("config", "file watch unavailable; reload with SIGHUP",
              {{"error", st.error().message}});
  }
  log::info("weftd", "agent ready",
            {{"services", config_.services.size()}, {"store", config_.registry.store}});
  return {};
}

Status Agent::openRegistry() {
  if (config_.registry.store == "etcd") {
    etcd::EtcdStoreOptions options;
    options.endpoints = config_.registry.etcd_endpoints;
    options.prefix = config_.registry.etcd_prefix;
    auto store = etcd::EtcdStore::open(options);
    if (!store) {
      return makeError("registry etcd: " + store.error().message);
    }
    store_ = std::move(*store);
  } else {
    registry::SqliteStoreOptions options;
    options.fsync_each_commit = config_.registry.sqlite_synchronous == "full";
    auto store = registry::SqliteStore::open(config_.registry.path, options);
    if (!store) {
      return makeError("registry " + config_.registry.path + ": " + store.error().message);
    }
    store_ = std::move(*store);
  }
  registry_ = std::make_unique<registry::Registry>(*store_, config_.vip_ranges, wallClockMs);

  // A verdict flip changes which endpoints of that service are usable.
  health_ = std::make_unique<health::HealthChecker>(
      io_, [this](const registry::Endpoint& endpoint, bool) {
        sync_->requestReevaluate({endpoint.ns, endpoint.service}, "health");
      });
  startup_health_ =
      std::make_unique<StartupHealthView>(*health_, adoptedBackends(*map_store_), kStartupGrace);
  sync_ = std::make_unique<RegistrySync>(io_, *registry_, *controller_, *startup_health_);
  grace_timer_.expires_after(kStartupGrace);
  grace_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      sync_->requestReevaluateAll("startup grace over");
    }
  });
  sync_->setListener(
      [this](const registry::RegistryCache& cache, const registry::RegistryCache::Delta& delta) {
        if (delta.checks_changed) {
          health_->setTargets(checkedEndpoints(cache));
        }
        if (dns_ && delta.services_changed) {
          dns_->setRecords(cachedServices(cache));
        }
      });
  // The store calls from its own thread or a writer's; the sync itself runs on io_.
  auto on_change = [this](const registry::ChangeSet& changes) {
    sync_->requestChanges(changes, "registry");
  };
  if (auto st = store_->watch(on_change); !st) {
    return makeError("registry watch: " + st.error().message);
  }
  sync_->startExpiryTicker();
  return {};
}

Status Agent::startServers() {
  api::ApiOptions api_options;
  api_options.socket_path = config_.api.socket;
  api_options.tcp = config_.api.tcp;
  api_ = std::make_unique<api::ApiServer>(io_, *registry_, *startup_health_, api_options);
  if (auto st = api_->start(); !st) {
    return makeError("api: " + st.error().message);
  }
  log::info("api", "listening", {{"socket", config_.api.socket}, {"tcp", config_.api.tcp}});

  if (config_.dns.listen.empty()) {
    return {};
  }
  auto dns_options = dns::dnsOptionsFromConfig(config_.dns);
  if (!dns_options) {
    return dns_options.error();
  }
  auto server = dns::DnsServer::start(io_, *dns_options);
  if (!server) {
    return makeError("dns: " + server.error().message);
  }
  dns_ = std::move(*server);
  dns_->setRecords(cachedServices(sync_->cache()));
  log::info("dns", "listening", {{"listen", config_.dns.listen}, {"domain", config_.dns.domain}});
  return {};
}

void Agent::run() {
  waitForSignal();
  io_.run();
  log::info("weftd", "agent stopped; pinned links keep balancing");
}

void Agent::waitForSignal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) {
      return;
    }
    if (signo == SIGHUP) {
      reload("SIGHUP");
      waitForSignal();
      return;
    }
    log::info("weftd", "stopping", {{"signal", signo}});
    if (api_) {
      api_->stop();
    }
    io_.stop();
  });
}

void Agent::reload(const char* trigger) {
  auto next = loadConfigFile(config_path_);
  if (!next) {
    log::error("config", "reload rejected; running state kept",
               {{"trigger", trigger}, {"error", next.error().message}});
    return;
  }
  // The attach point, pin root, store and listeners are fixed for the life of the process:
  // moving them would open a window with no data path or API; a restart is the explicit way.
  if (next->cgroup != config_.cgroup || next->bpffs_root != config_.bpffs_root ||
      next->registry != config_.registry || next->api != config_.api || next->dns != config_.dns ||
      next->vip_ranges != config_.vip_ranges) {
    log::error("config",
               "reload rejected: cgroup, bpffs_root, vip_ranges, registry, api and dns need a "
               "restart",
               {{"trigger", trigger}});
    return;
  }
  log::setLevel(next->log_level);
  if (auto st = syncConfigBypass(PinLayout(config_.bpffs_root).mapsDir(), next->bypass_cgroups);
      !st) {
    log::error("config", "reload rejected; running state kept",
               {{"trigger", trigger}, {"error", st.error().message}});
    return;
  }
  if (auto st = declareConfigServices(*registry_, next->services); !st) {
    log::error("config", "reload failed to declare services",
               {{"trigger", trigger}, {"error", st.error().message}});
    return;
  }
  if (auto st = sync_->syncNow(trigger); !st) {
    log::error("sync", "reload failed to apply", {{"error", st.error().message}});
    return;
  }
  log::info("config", "config applied",
            {{"trigger", trigger}, {"services", next->services.size()}});
  config_ = std::move(*next);
}

}  // namespace weft
