// SPDX-License-Identifier: Apache-2.0
// Registry benchmark tool, driven by bench/registry.sh:
//   seed     fills a store (SQLite file or etcd prefix) with N services of M endpoints each;
//   changes  registers and deregisters an endpoint K times, through weftd's API or straight
//            into the store as another writer would, and times each change until the service's
//            entry in the pinned BPF service map shows it.
#include <bpf/bpf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "maps/weft_maps.h"
#include "userspace/api_client/api_client.h"
#include "userspace/config/ip_addr.h"
#include "userspace/controller/map_encoding.h"
#include "userspace/etcd/etcd_store.h"
#include "userspace/registry/registry.h"
#include "userspace/registry/sqlite_store.h"

namespace weft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string mode;
  std::string store = "sqlite";  // sqlite | etcd
  std::string path;              // sqlite file
  std::string etcd;              // etcd URL
  std::string prefix = "/weft/";
  std::string socket;      // weftd API socket; empty: write into the store directly
  std::string bpffs_root;  // where weftd pins its maps
  int services = 10000;
  int endpoints = 10;
  int count = 200;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "registry_bench: %s\n", what.c_str());
  std::exit(1);
}

Args parseArgs(int argc, char** argv) {
  if (argc < 2) {
    fail(
        "usage: registry_bench seed|changes [--store sqlite|etcd] [--path P] [--etcd URL] "
        "[--prefix P] [--socket S] [--bpffs-root R] [--services N] [--endpoints M] [--count K]");
  }
  Args args;
  args.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--store") {
      args.store = value;
    } else if (flag == "--path") {
      args.path = value;
    } else if (flag == "--etcd") {
      args.etcd = value;
    } else if (flag == "--prefix") {
      args.prefix = value;
    } else if (flag == "--socket") {
      args.socket = value;
    } else if (flag == "--bpffs-root") {
      args.bpffs_root = value;
    } else if (flag == "--services") {
      args.services = std::stoi(value);
    } else if (flag == "--endpoints") {
      args.endpoints = std::stoi(value);
    } else if (flag == "--count") {
      args.count = std::stoi(value);
    } else {
      fail("unknown flag " + flag);
    }
  }
  return args;
}

std::unique_ptr<registry::Store> openStore(const Args& args) {
  if (args.store == "etcd") {
    etcd::EtcdStoreOptions options;
    options.endpoints = {args.etcd};
    options.prefix = args.prefix;
    auto store = etcd::EtcdStore::open(options);
    if (!store) {
      fail("etcd: " + store.error().message);
    }
    return std::move(*store);
  }
  auto store = registry::SqliteStore::open(args.path);
  if (!store) {
    fail("sqlite: " + store.error().message);
  }
  return std::move(*store);
}

IpAddr parseIp(const std::string& text) {
  auto ip = IpAddr::parse(text);
  if (!ip) {
    fail("bad address " + text);
  }
  return *ip;
}

// Service i: "svc-<i>" with VIP 10.96.<i/250>.<i%250+1>; endpoint j of it at
// 127.<1 + i/65536>.<(i/256)%256>.<i%256>:<8000 + j>. Nothing ever connects to them.
void seed(const Args& args) {
  auto store = openStore(args);
  registry::Registry registry(*store, {*Cidr::parse("10.96.0.0/16")}, [] { return 0; });
  std::vector<registry::Service> services;
  std::vector<registry::Endpoint> endpoints;
  for (int i = 0; i < args.services; ++i) {
    registry::Service svc;
    svc.name = fmt::format("svc-{}", i);
    svc.ports = {{"", 80, WEFT_PROTO_TCP}};
    svc.vip = parseIp(fmt::format("10.96.{}.{}", i / 250, i % 250 + 1));
    services.push_back(svc);
    for (int j = 0; j < args.endpoints; ++j) {
      registry::Endpoint ep;
      ep.service = svc.name;
      ep.host = parseIp(fmt::format("127.{}.{}.{}", 1 + i / 65536, (i / 256) % 256, i % 256));
      ep.port = static_cast<uint16_t>(8000 + j);
      endpoints.push_back(ep);
    }
  }
  auto start = Clock::now();
  if (auto st = registry.declare(services, endpoints); !st) {
    fail("seed: " + st.error().message);
  }
  auto ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("seeded %d services x %d endpoints into %s in %.0f ms\n", args.services,
              args.endpoints, args.store.c_str(), ms);
}

// The generation of the service's map entry; bumped by every change of its backend set.
class ServiceMapProbe {
 public:
  ServiceMapProbe(const std::string& bpffs_root, const IpAddr& vip) {
    std::string pin = bpffs_root + "/maps/" + WEFT_MAP_SVC;
    fd_ = bpf_obj_get(pin.c_str());
    if (fd_ < 0) {
      fail("open " + pin + ": " + std::strerror(errno));
    }
    key_ = encodeServiceKey(vip, 80, WEFT_PROTO_TCP);
  }
  ~ServiceMapProbe() { ::close(fd_); }

  // {generation, backend count}; {0, 0} while the service is not in the map.
  std::pair<uint32_t, uint16_t> read() const {
    weft_svc_value value{};
    if (bpf_map_lookup_elem(fd_, &key_, &value) != 0) {
      return {0, 0};
    }
    return {value.generation, value.count};
  }

  // Spins until the backend count is `count`; false after 10 s.
  bool waitForCount(uint16_t count) const {
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (read().second != count) {
      if (Clock::now() > deadline) {
        return false;
      }
      // Fine enough for millisecond figures, and leaves the second core to weftd.
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    return true;
  }

 private:
  int fd_ = -1;
  weft_svc_key key_{};
};

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

void report(const char* what, const std::vector<double>& ms) {
  std::printf("%-34s n=%zu p50=%.2f ms p90=%.2f ms p99=%.2f ms max=%.2f ms\n", what, ms.size(),
              percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99), percentile(ms, 1.0));
}

// Registers a probe service with one endpoint, then alternately adds and removes a second
// endpoint; each change is timed from the moment the write is issued until the map shows it.
void changes(const Args& args) {
  std::unique_ptr<api::ApiClient> client;
  std::unique_ptr<registry::Store> store;
  std::unique_ptr<registry::Registry> registry;
  if (!args.socket.empty()) {
    api::ClientOptions options;
    options.socket_path = args.socket;
    client = std::make_unique<api::ApiClient>(options);
  } else {
    store = openStore(args);
    registry = std::make_unique<registry::Registry>(
        *store, std::vector<Cidr>{*Cidr::parse("10.97.0.0/16")}, [] { return 0; });
  }

  registry::Service probe;
  probe.name = client ? "bench-probe-api" : "bench-probe-store";
  probe.ports = {{"", 80, WEFT_PROTO_TCP}};
  auto registered = client ? client->registerService(probe) : registry->registerService(probe);
  if (!registered) {
    fail("register bench-probe: " + registered.error().message);
  }
  registry::Endpoint fixed;
  fixed.service = probe.name;
  fixed.host = parseIp("127.0.0.1");
  fixed.port = 9000;
  registry::Endpoint moving = fixed;
  moving.port = 9001;
  auto put = [&](const registry::Endpoint& ep) -> Status {
    auto done = client ? client->registerEndpoint(ep) : registry->registerEndpoint(ep);
    return done ? Status{} : Status{done.error()};
  };
  auto remove = [&](const registry::Endpoint& ep) -> Status {
    return client ? client->deregisterEndpoint(ep.ns, ep.service, ep.id())
                  : registry->deregisterEndpoint(ep.ns, ep.service, ep.id());
  };
  if (auto st = put(fixed); !st) {
    fail("register endpoint: " + st.error().message);
  }

  ServiceMapProbe map(args.bpffs_root, *registered->vip);
  if (!map.waitForCount(1)) {
    fail("bench-probe never reached the service map with one backend");
  }

  std::vector<double> write_ms;
  std::vector<double> visible_ms;
  for (int i = 0; i < args.count; ++i) {
    bool adding = i % 2 == 0;
    auto start = Clock::now();
    Status st = adding ? put(moving) : remove(moving);
    auto written = Clock::now();
    if (!st) {
      fail(fmt::format("change {}: {}", i, st.error().message));
    }
    if (!map.waitForCount(adding ? 2 : 1)) {
      fail(fmt::format("change {} did not reach the map within 10 s", i));
    }
    auto seen = Clock::now();
    write_ms.push_back(std::chrono::duration<double, std::milli>(written - start).count());
    visible_ms.push_back(std::chrono::duration<double, std::milli>(seen - start).count());
    // Spaced out so each change is measured alone, not coalesced with the next.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  report("write acknowledged", write_ms);
  report("write issued -> BPF map updated", visible_ms);
  Status cleaned = client ? client->deregisterService(probe.ns, probe.name)
                          : registry->deregisterService(probe.ns, probe.name);
  if (!cleaned) {
    fail("clean-up: " + cleaned.error().message);
  }
}

}  // namespace
}  // namespace weft::bench

int main(int argc, char** argv) {
  auto args = weft::bench::parseArgs(argc, argv);
  if (args.mode == "seed") {
    weft::bench::seed(args);
  } else if (args.mode == "changes") {
    weft::bench::changes(args);
  } else {
    weft::bench::fail("unknown mode " + args.mode);
  }
  return 0;
}
