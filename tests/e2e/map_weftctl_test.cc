// SPDX-License-Identifier: Apache-2.0
// `weftctl map` against a running weftd: list the pins, dump with named fields, live edits
// that the next connect obeys, and rejected keys and values that leave the maps untouched.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "maps/weft_maps.h"
#include "tests/e2e/fixture.h"

namespace weft::e2e {
namespace {

using nlohmann::json;

class MapWeftctlTest : public AgentTest {
 protected:
  // Runs `weftctl -o json ARGS`, expects success and parses stdout.
  json ctlJson(const std::vector<std::string>& command) {
    std::vector<std::string> args = {"-o", "json"};
    args.insert(args.end(), command.begin(), command.end());
    CommandResult r = sandbox_.weftctl(args);
    EXPECT_EQ(r.exit_code, 0) << joinArgs(args) << "\n" << r.err;
    json out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << joinArgs(args) << "\n" << r.out;
    return out;
  }

  // weft with one service "web" on 10.96.0.10:80 over backends b1 and b2.
  void startWeb() {
    auto& b1 = tcpServer("b1");
    auto& b2 = tcpServer("b2");
    AgentConfig config = sandbox_.baseConfig();
    config.services.push_back(
        {"web", "10.96.0.10", 80, "tcp", "round_robin", {backendOf(b1), backendOf(b2)}});
    ASSERT_NO_FATAL_FAILURE(startAgent(config));
    b1_port_ = b1.port();
  }

  uint16_t b1_port_ = 0;
};

TEST_F(MapWeftctlTest, ListShowsEveryPinnedMapWithItsShape) {
  ASSERT_NO_FATAL_FAILURE(startWeb());
  json maps = ctlJson({"map", "list"});
  ASSERT_TRUE(maps.is_array());

  json svc;
  json stats;
  for (const json& m : maps) {
    if (m["name"] == "weft_svc_v2") {
      svc = m;
    } else if (m["name"] == "weft_stats_v1") {
      stats = m;
    }
  }
  ASSERT_FALSE(svc.is_null()) << maps.dump();
  EXPECT_EQ(svc["type"], "hash");
  EXPECT_EQ(svc["key_size"], 20);
  EXPECT_EQ(svc["value_size"], 32);
  EXPECT_EQ(svc["max_entries"], WEFT_MAX_SERVICES);
  EXPECT_EQ(svc["entries"], 1);
  EXPECT_EQ(svc["pin"], sandbox_.bpffsRoot() + "/maps/weft_svc_v2");
  ASSERT_FALSE(stats.is_null()) << maps.dump();
  EXPECT_EQ(stats["type"], "percpu_array");
  EXPECT_EQ(stats["entries"], WEFT_STATS_SLOTS);

  CommandResult table = sandbox_.weftctl({"map", "list"});
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(table.out.rfind("NAME", 0), 0u) << table.out;
  EXPECT_NE(table.out.find("weft_svcinfo_v1"), std::string::npos) << table.out;
}

TEST_F(MapWeftctlTest, DumpDecodesServicesBackendsAndPerCpuCounters) {
  ASSERT_NO_FATAL_FAILURE(startWeb());
  json services = ctlJson({"map", "dump", "weft_svc"});
  ASSERT_EQ(services.size(), 1u) << services.dump();
  EXPECT_EQ(services[0]["key"],
            json::parse(R"({"addr":"10.96.0.10","port":80,"proto":"tcp","family":"ipv4"})"));
  EXPECT_EQ(services[0]["value"]["count"], 2);
  EXPECT_EQ(services[0]["value"]["algo"], "round_robin");

  json backends = ctlJson({"map", "dump", "weft_be_v1"});
  ASSERT_EQ(backends.size(), 2u) << backends.dump();
  for (const json& b : backends) {
    EXPECT_EQ(b["value"]["addr"], "127.0.0.1");
    EXPECT_EQ(b["value"]["state"], "active");
    EXPECT_FALSE(b["value"].contains("pad"));
  }

  // One connect so that a counter moves; the sum adds the per-CPU slots.
  EXPECT_EQ(runClient(sandbox_.procsFile(), [&] { return fetchName(endpoint("10.96.0.10", 80)); })
                .rfind("b", 0),
            0u);
  json ok = ctlJson({"map", "get", "weft_stats", std::to_string(WEFT_R_LB_OK)});
  ASSERT_TRUE(ok["per_cpu"].is_array());
  uint64_t total = 0;
  for (const json& v : ok["per_cpu"]) {
    total += v.get<uint64_t>();
  }
  EXPECT_EQ(ok["sum"], total);
  EXPECT_GE(total, 1u);

  CommandResult limited =
      sandbox_.weftctl({"-o", "json", "map", "dump", "weft_rr_v1", "--limit", "3"});
  EXPECT_EQ(limited.exit_code, 0) << limited.err;
  EXPECT_EQ(json::parse(limited.out, nullptr, false).size(), 3u) << limited.out;
  EXPECT_EQ(limited.err,
            "weftctl: map weft_rr_v1: dump stopped after 3 entries; raise --limit to "
            "see more\n");
}

TEST_F(MapWeftctlTest, SlotEditsTakeEffectOnTheNextConnect) {
  ASSERT_NO_FATAL_FAILURE(startWeb());
  json svc = ctlJson({"map", "dump", "weft_svc"})[0]["value"];
  uint32_t b1_id = 0;
  for (const json& b : ctlJson({"map", "dump", "weft_be"})) {
    if (b["value"]["port"] == b1_port_) {
      b1_id = b["key"].get<uint32_t>();
    }
  }
  ASSERT_NE(b1_id, 0u);

  // Point every active slot at b1, with --exist so that nothing new is created.
  for (int index = 0; index < svc["count"].get<int>(); index++) {
    json key = {{"svc_id", svc["svc_id"]}, {"index", index}, {"half", svc["half"]}};
    json value = {{"backend_id", b1_id}, {"weight", 7}};
    json written = ctlJson({"map", "update", "weft_slot", key.dump(), value.dump(), "--exist"});
    EXPECT_EQ(written["value"], value) << written.dump();
    EXPECT_EQ(ctlJson({"map", "get", "weft_slot_v1", key.dump()})["value"], value);
  }
  std::string spread =
      runClient(sandbox_.procsFile(), [&] { return countNames(endpoint("10.96.0.10", 80), 10); });
  EXPECT_EQ(spread, "b1=10");

  // A service value edit shows in the agent-independent views too.
  json key = ctlJson({"map", "dump", "weft_svc"})[0]["key"];
  svc["algo"] = "random";
  ctlJson({"map", "update", "weft_svc", key.dump(), svc.dump()});
  EXPECT_EQ(ctlJson({"service", "list"})[0]["algorithm"], "random");
}

TEST_F(MapWeftctlTest, CreateGetAndDeleteABackendEntry) {
  ASSERT_NO_FATAL_FAILURE(startWeb());
  std::string value =
      R"({"addr":"fd00::5","port":9000,"proto":"udp","family":"ipv6","state":"draining"})";
  json created = ctlJson({"map", "update", "weft_be", "999", value, "--create"});
  EXPECT_EQ(created["key"], 999);
  EXPECT_EQ(created["value"], json::parse(value));

  CommandResult again = sandbox_.weftctl({"map", "update", "weft_be", "999", value, "--create"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_EQ(again.err, "weftctl: map weft_be_v1: update: the key exists (--create)\n");

  json deleted = ctlJson({"map", "delete", "weft_be", "999"});
  EXPECT_EQ(deleted["deleted"], 999);
  CommandResult gone = sandbox_.weftctl({"map", "get", "weft_be", "999"});
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_EQ(gone.err, "weftctl: map weft_be_v1: no entry for key 999\n");
  CommandResult array_delete = sandbox_.weftctl({"map", "delete", "weft_rr_v1", "0"});
  EXPECT_EQ(array_delete.exit_code, 1);
  EXPECT_NE(array_delete.err.find("cannot be deleted"), std::string::npos) << array_delete.err;
}

TEST_F(MapWeftctlTest, InvalidKeysAndValuesAreRejectedAndNothingIsWritten) {
  ASSERT_NO_FATAL_FAILURE(startWeb());
  json before_svc = ctlJson({"map", "dump", "weft_svc"});
  json before_be = ctlJson({"map", "dump", "weft_be"});
  std::string key = before_svc[0]["key"].dump();
  std::string value = before_svc[0]["value"].dump();
  std::string be = R"({"addr":"127.0.0.9","port":1,"proto":"tcp","family":"ipv4","state":0})";

  struct Case {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{"map", "update", "weft_svc", key, R"({"svc_id":1,"bogus":2})"},
       "weftctl: map weft_svc_v2: field value.bogus: unknown field (struct weft_svc_value has "
       "svc_id, count, half, algo, flags, generation, maglev_size, affinity_timeout_s)\n"},
      {{"map", "update", "weft_be", "5",
        R"({"addr":"127.0.0.300","port":1,"proto":"tcp","family":"ipv4","state":0})"},
       "weftctl: map weft_be_v1: field value.addr: \"127.0.0.300\" is not an IPv4 or IPv6 "
       "address\n"},
      {{"map", "update", "weft_be", "5",
        R"({"addr":"127.0.0.9","port":70000,"proto":"tcp","family":"ipv4","state":0})"},
       "weftctl: map weft_be_v1: field value.port: 70000 is out of range 0..65535\n"},
      {{"map", "get", "weft_svc", R"({"addr":"10.96.0.10","port":80})"},
       "weftctl: map weft_svc_v2: field key.proto: missing (struct weft_svc_key needs addr, "
       "port, proto, family)\n"},
      {{"map", "update", "weft_be", "-1", be},
       "weftctl: map weft_be_v1: field key: -1 is out of range 0..4294967295\n"},
      {{"map", "dump", "weft_nope"}, "weftctl: map \"weft_nope\" is not pinned here (maps: "},
      {{"map", "get", "../maps/weft_svc_v2", key}, "is not pinned here"},
  };
  for (const Case& c : cases) {
    CommandResult r = sandbox_.weftctl(c.args);
    EXPECT_EQ(r.exit_code, 1) << joinArgs(c.args) << "\n" << r.out;
    EXPECT_NE(r.err.find(c.err), std::string::npos) << joinArgs(c.args) << "\n" << r.err;
    EXPECT_EQ(r.out, "") << joinArgs(c.args);
  }
  EXPECT_EQ(ctlJson({"map", "dump", "weft_svc"}), before_svc);
  EXPECT_EQ(ctlJson({"map", "dump", "weft_be"}), before_be);
}

// Maps weftd does not make: no BTF, per-CPU, an outer map of maps. Created here with libbpf
// and pinned under this test's own bpffs root, removed when the test ends.
class RawMapWeftctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = "/sys/fs/bpf/weft-test-" + std::to_string(::getpid()) + "-rawmaps";
    std::error_code ec;
    std::filesystem::create_directories(root_ + "/maps", ec);
    ASSERT_FALSE(ec) << root_ << ": " << ec.message();
  }

  void TearDown() override {
    for (int fd : fds_) {
      ::close(fd);
    }
    std::error_code ec;
    for (const char* name : {"weft_raw", "weft_pcpu_v1", "weft_outer_v1"}) {
      std::filesystem::remove(root_ + "/maps/" + name, ec);
    }
    std::filesystem::remove(root_ + "/maps", ec);
    std::filesystem::remove(root_, ec);
  }

  // Creates a map without BTF and pins it as `name` (empty: not pinned). Returns its fd.
  int createMap(bpf_map_type type, uint32_t key, uint32_t value, uint32_t entries,
                const std::string& name, int inner_fd = -1) {
    LIBBPF_OPTS(bpf_map_create_opts, opts);
    if (inner_fd >= 0) {
      opts.inner_map_fd = inner_fd;
    }
    int fd = bpf_map_create(type, nullptr, key, value, entries, &opts);
    EXPECT_GE(fd, 0) << "bpf_map_create " << name << ": " << std::strerror(errno);
    if (fd >= 0) {
      fds_.push_back(fd);
    }
    if (fd >= 0 && !name.empty()) {
      EXPECT_EQ(bpf_obj_pin(fd, (root_ + "/maps/" + name).c_str()), 0) << std::strerror(errno);
    }
    return fd;
  }

  CommandResult ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {std::string(WEFT_BIN_DIR) + "/weftctl", "--bpffs-root", root_,
                                     "-o", "json"};
    argv.insert(argv.end(), args.begin(), args.end());
    return runCommand(argv);
  }

  json ctlJson(const std::vector<std::string>& args) {
    CommandResult r = ctl(args);
    EXPECT_EQ(r.exit_code, 0) << joinArgs(args) << "\n" << r.err;
    json out = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << r.out;
    return out;
  }

  std::string root_;
  std::vector<int> fds_;
};

TEST_F(RawMapWeftctlTest, MapsWithoutBtfShowIntegersAndHexBytes) {
  ASSERT_GE(createMap(BPF_MAP_TYPE_HASH, 3, 5, 4, "weft_raw"), 0);
  json written = ctlJson({"map", "update", "weft_raw", R"("0a0b0c")", R"("0102030405")"});
  EXPECT_EQ(written, json::parse(R"({"key":"0a0b0c","value":"0102030405"})"));
  EXPECT_EQ(ctlJson({"map", "dump", "weft_raw"}).size(), 1u);

  CommandResult r = ctl({"map", "update", "weft_raw", R"("0a0b")", R"("0102030405")"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "weftctl: map weft_raw: field key: \"0a0b\" is not 6 hex digits (3 bytes)\n");
}

TEST_F(RawMapWeftctlTest, PerCpuValuesAndTheirSum) {
  int fd = createMap(BPF_MAP_TYPE_PERCPU_HASH, 4, 8, 4, "weft_pcpu_v1");
  ASSERT_GE(fd, 0);
  int cpus = libbpf_num_possible_cpus();
  ASSERT_GT(cpus, 0);
  std::vector<uint64_t> values(cpus);
  uint64_t want = 0;
  for (int cpu = 0; cpu < cpus; cpu++) {
    values[cpu] = 10 + cpu;
    want += values[cpu];
  }
  uint32_t key = 7;
  ASSERT_EQ(bpf_map_update_elem(fd, &key, values.data(), BPF_ANY), 0);

  json entry = ctlJson({"map", "get", "weft_pcpu", "7"});
  EXPECT_EQ(entry["key"], 7);
  EXPECT_EQ(entry["per_cpu"].size(), size_t(cpus));
  EXPECT_EQ(entry["per_cpu"][0], 10);
  EXPECT_EQ(entry["sum"], want);

  // An update writes the value on every CPU: 0 resets a counter.
  json reset = ctlJson({"map", "update", "weft_pcpu", "7", "0", "--exist"});
  EXPECT_EQ(reset["sum"], 0);
  EXPECT_EQ(ctl({"map", "update", "weft_pcpu", "8", "1", "--exist"}).err,
            "weftctl: map weft_pcpu_v1: update: the key does not exist (--exist)\n");
}

TEST_F(RawMapWeftctlTest, OuterMapsShowAndTakeInnerMapIds) {
  int inner = createMap(BPF_MAP_TYPE_ARRAY, 4, 4, 1, "");
  ASSERT_GE(inner, 0);
  ASSERT_GE(createMap(BPF_MAP_TYPE_ARRAY_OF_MAPS, 4, 4, 2, "weft_outer_v1", inner), 0);
  bpf_map_info info{};
  __u32 len = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(inner, &info, &len), 0);

  json set = ctlJson(
      {"map", "update", "weft_outer", "1", R"({"inner_map_id":)" + std::to_string(info.id) + "}"});
  EXPECT_EQ(set["value"]["inner_map_id"], info.id);
  json dumped = ctlJson({"map", "dump", "weft_outer_v1"});
  ASSERT_EQ(dumped.size(), 1u) << dumped.dump();
  EXPECT_EQ(dumped[0]["key"], 1);
  json list = ctlJson({"map", "list"});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["type"], "array_of_maps");
  EXPECT_EQ(list[0]["entries"], 1);

  CommandResult r = ctl({"map", "update", "weft_outer", "0", R"({"inner_map_id":4000000000})"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("field value.inner_map_id: 4000000000 is not a map id"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace weft::e2e
