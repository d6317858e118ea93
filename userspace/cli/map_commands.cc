// SPDX-License-Identifier: Apache-2.0
// weftctl map list|dump|get|update|delete: command-line flags to PinnedMap calls and output.
#include "userspace/cli/map_commands.h"

#include <linux/bpf.h>

#include <nlohmann/json.hpp>

#include "maps/weft_maps.h"
#include "userspace/cli/btf_codec.h"
#include "userspace/cli/map_access.h"
#include "userspace/cli/render.h"

namespace weft::cli {
namespace {

using nlohmann::ordered_json;

constexpr const char* kNameHelp =
    "map name as pinned under <bpffs_root>/maps; the layout suffix may be left off "
    "(weft_svc = " WEFT_MAP_SVC ")";
constexpr const char* kKeyHelp =
    "JSON object with every field of the key type, e.g. '{\"svc_id\":1,\"index\":0,"
    "\"half\":0}', or a bare integer for integer keys (array index)";

int fail(std::ostream& err, const std::string& message) {
  err << "weftctl: " << message << "\n";
  return 1;
}

// Table cells hold one line each: nested key and value objects print as compact JSON.
ordered_json tableRow(const ordered_json& entry) {
  ordered_json row;
  for (const auto& item : entry.items()) {
    row[item.key()] =
        item.value().is_string() ? item.value().get<std::string>() : compactJson(item.value());
  }
  return row;
}

void printJson(std::ostream& out, const ordered_json& value) {
  out << value.dump(2, ' ', false, ordered_json::error_handler_t::replace) << "\n";
}

Result<PinnedMap> openWithKey(const std::string& bpffs_root, const std::string& name,
                              const std::string& key_text, Bytes* key) {
  auto map = PinnedMap::open(bpffs_root, name);
  if (!map) {
    return map.error();
  }
  auto encoded = encodeText(map->keyLayout(), key_text);
  if (!encoded) {
    return makeError("map " + map->info().name + ": " + encoded.error().message);
  }
  *key = std::move(*encoded);
  return map;
}

}  // namespace

MapCommands::MapCommands(CLI::App& app) {
  map_ = app.add_subcommand("map", "raw access to weft's pinned maps, fields named by BTF");
  map_->require_subcommand(1);

  list_ = map_->add_subcommand("list", "maps pinned under <bpffs_root>/maps");
  dump_ = map_->add_subcommand("dump", "every entry of a map, decoded");
  dump_->add_option("NAME", name_, kNameHelp)->required();
  dump_->add_option("--limit", limit_, "stop after this many entries")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();

  get_ = map_->add_subcommand("get", "one entry");
  get_->add_option("NAME", name_, kNameHelp)->required();
  get_->add_option("KEY", key_, kKeyHelp)->required();

  update_ = map_->add_subcommand("update",
                                 "write one entry now (the agent's next sync may overwrite it)");
  update_->add_option("NAME", name_, kNameHelp)->required();
  update_->add_option("KEY", key_, kKeyHelp)->required();
  update_
      ->add_option("VALUE", value_,
                   "JSON object with every field of the value type (pads may be left out), "
                   "or a bare integer for integer values; per-CPU maps get it on every CPU")
      ->required();
  auto* create = update_->add_flag("--create", create_, "fail if the key exists");
  update_->add_flag("--exist", exist_, "fail unless the key exists")->excludes(create);

  delete_ = map_->add_subcommand("delete", "remove one entry");
  delete_->add_option("NAME", name_, kNameHelp)->required();
  delete_->add_option("KEY", key_, kKeyHelp)->required();
}

bool MapCommands::parsed() const {
  return map_->parsed();
}

int MapCommands::run(const std::string& bpffs_root, bool json, std::ostream& out,
                     std::ostream& err) {
  if (list_->parsed()) {
    return list(bpffs_root, json, out, err);
  }
  if (dump_->parsed()) {
    return dump(bpffs_root, json, out, err);
  }
  if (get_->parsed()) {
    return get(bpffs_root, json, out, err);
  }
  if (update_->parsed()) {
    return update(bpffs_root, json, out, err);
  }
  return erase(bpffs_root, json, out, err);
}

int MapCommands::list(const std::string& bpffs_root, bool json, std::ostream& out,
                      std::ostream& err) {
  auto names = pinnedMapNames(bpffs_root);
  if (!names) {
    return fail(err, names.error().message);
  }
  ordered_json rows = ordered_json::array();
  for (const std::string& name : *names) {
    auto map = PinnedMap::open(bpffs_root, name);
    if (!map) {
      return fail(err, map.error().message);
    }
    const MapInfo& info = map->info();
    std::optional<uint64_t> entries = map->countEntries();
    ordered_json row;
    row["name"] = info.name;
    row["type"] = info.type;
    row["key_size"] = info.key_size;
    row["value_size"] = info.value_size;
    row["max_entries"] = info.max_entries;
    row["entries"] = entries ? ordered_json(*entries) : ordered_json(nullptr);
    row["pin"] = info.path;
    rows.push_back(row);
  }
  if (json) {
    printJson(out, rows);
  } else {
    printTable(out, rows);
  }
  return 0;
}

int MapCommands::dump(const std::string& bpffs_root, bool json, std::ostream& out,
                      std::ostream& err) {
  auto map = PinnedMap::open(bpffs_root, name_);
  if (!map) {
    return fail(err, map.error().message);
  }
  bool truncated = false;
  auto keys = map->keys(limit_, &truncated);
  if (!keys) {
    return fail(err, keys.error().message);
  }

  ordered_json entries = ordered_json::array();
  ordered_json rows = ordered_json::array();
  for (const Bytes& key : *keys) {
    auto entry = map->entry(key);
    if (!entry) {
      return fail(err, entry.error().message);
    }
    if (*entry) {  // else deleted while we walked
      rows.push_back(tableRow(**entry));
      entries.push_back(std::move(**entry));
    }
  }
  if (json) {
    printJson(out, entries);
  } else {
    printTable(out, rows);
  }
  // On stderr so that the JSON on stdout stays one array a script can parse.
  if (truncated) {
    err << "weftctl: map " << map->info().name << ": dump stopped after " << limit_
        << " entries; raise --limit to see more\n";
  }
  return 0;
}

int MapCommands::get(const std::string& bpffs_root, bool json, std::ostream& out,
                     std::ostream& err) {
  Bytes key;
  auto map = openWithKey(bpffs_root, name_, key_, &key);
  if (!map) {
    return fail(err, map.error().message);
  }
  auto entry = map->entry(key);
  if (!entry) {
    return fail(err, entry.error().message);
  }
  if (!*entry) {
    return fail(err, "map " + map->info().name + ": no entry for key " + key_);
  }
  if (json) {
    printJson(out, **entry);
  } else {
    printKeyValues(out, **entry);
  }
  return 0;
}

int MapCommands::update(const std::string& bpffs_root, bool json, std::ostream& out,
                        std::ostream& err) {
  Bytes key;
  auto map = openWithKey(bpffs_root, name_, key_, &key);
  if (!map) {
    return fail(err, map.error().message);
  }
  auto value = encodeText(map->valueLayout(), value_);
  if (!value) {
    return fail(err, "map " + map->info().name + ": " + value.error().message);
  }
  uint64_t flags = create_ ? BPF_NOEXIST : exist_ ? BPF_EXIST : BPF_ANY;
  if (auto st = map->update(key, *value, flags); !st) {
    return fail(err, st.error().message);
  }
  // Read back, so the output shows what the kernel now holds.
  auto entry = map->entry(key);
  if (!entry || !*entry) {
    return fail(err, "map " + map->info().name + ": updated, but the entry cannot be read back" +
                         (entry ? "" : ": " + entry.error().message));
  }
  if (json) {
    printJson(out, **entry);
  } else {
    printKeyValues(out, **entry);
  }
  return 0;
}

int MapCommands::erase(const std::string& bpffs_root, bool json, std::ostream& out,
                       std::ostream& err) {
  Bytes key;
  auto map = openWithKey(bpffs_root, name_, key_, &key);
  if (!map) {
    return fail(err, map.error().message);
  }
  if (auto st = map->erase(key); !st) {
    return fail(err, st.error().message);
  }
  ordered_json deleted;
  deleted["deleted"] = decodeField(map->keyLayout(), key);
  if (json) {
    printJson(out, deleted);
  } else {
    out << "map " << map->info().name << ": deleted " << compactJson(deleted["deleted"]) << "\n";
  }
  return 0;
}

}  // namespace weft::cli
