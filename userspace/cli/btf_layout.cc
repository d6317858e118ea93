// SPDX-License-Identifier: Apache-2.0
// Walks BTF types (structs, arrays, typedefs, integers, enums) into a Field tree and marks the
// weft contract's well-known member names with their presentation hints.
#include "userspace/cli/btf_layout.h"

#include <bpf/btf.h>
#include <linux/btf.h>

#include <cctype>

namespace weft::cli {
namespace {

// BTF of sized types is acyclic, but a bound keeps a corrupt blob from recursing forever.
constexpr int kMaxDepth = 32;
// Bigger arrays print as hex bytes rather than as tens of thousands of JSON numbers.
constexpr uint32_t kMaxArrayElements = 4096;

bool startsWith(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool isPadName(const std::string& name) {
  size_t start = name.find_first_not_of('_');
  if (start == std::string::npos || name.compare(start, 3, "pad") != 0) {
    return false;
  }
  for (size_t i = start + 3; i < name.size(); i++) {
    if (!std::isdigit(static_cast<unsigned char>(name[i]))) {
      return false;
    }
  }
  return true;
}

bool isWholeInt(const Field& f, uint32_t size) {
  return f.kind == Field::Kind::kInt && f.bit_size == 0 && f.size == size;
}

class Builder {
 public:
  explicit Builder(const struct btf* btf) : btf_(btf) {}

  // Fills `out` (all but name and offset) from `type_id`; false when the type cannot be
  // walked, in which case the caller falls back to a plain layout.
  bool build(uint32_t type_id, bool in_weft, int depth, Field& out) const {
    if (depth > kMaxDepth) {
      return false;
    }
    std::string alias;
    const btf_type* t = resolve(type_id, &alias);
    __s64 size = btf__resolve_size(btf_, type_id);
    if (t == nullptr || size < 0 || size > UINT32_MAX) {
      return false;
    }
    out.size = static_cast<uint32_t>(size);
    out.type_name = alias.empty() ? describe(t) : alias;

    if (btf_is_int(t)) {
      bool whole = btf_int_offset(t) == 0 && btf_int_bits(t) == out.size * 8;
      out.kind = whole && validIntSize(out.size) ? Field::Kind::kInt : Field::Kind::kBytes;
      out.is_signed = (btf_int_encoding(t) & BTF_INT_SIGNED) != 0;
      return true;
    }
    if (btf_is_any_enum(t)) {
      return buildEnum(t, out);
    }
    if (btf_is_struct(t)) {
      return buildStruct(t, in_weft, depth, out);
    }
    if (btf_is_array(t)) {
      return buildArray(t, in_weft, depth, out);
    }
    // Unions, floats, pointers: shown as the bytes they cover.
    out.kind = Field::Kind::kBytes;
    return btf_is_union(t) || btf_is_float(t) || btf_is_ptr(t);
  }

 private:
  static bool validIntSize(uint32_t size) {
    return size == 1 || size == 2 || size == 4 || size == 8;
  }

  // Skips typedefs and modifiers; `alias` gets the outermost typedef name (e.g. "__u32").
  const btf_type* resolve(uint32_t id, std::string* alias) const {
    for (int i = 0; i < kMaxDepth; i++) {
      const btf_type* t = btf__type_by_id(btf_, id);
      if (t == nullptr || btf_is_void(t)) {
        return nullptr;
      }
      if (!btf_is_typedef(t) && !btf_is_mod(t)) {
        return t;
      }
      if (btf_is_typedef(t) && alias->empty()) {
        *alias = name(t->name_off);
      }
      id = t->type;
    }
    return nullptr;
  }

  std::string name(uint32_t name_off) const {
    const char* text = btf__name_by_offset(btf_, name_off);
    return text != nullptr ? text : "";
  }

  std::string describe(const btf_type* t) const {
    std::string own = name(t->name_off);
    if (btf_is_struct(t)) {
      return "struct " + (own.empty() ? std::string("(anon)") : own);
    }
    if (btf_is_union(t)) {
      return "union " + (own.empty() ? std::string("(anon)") : own);
    }
    if (btf_is_any_enum(t)) {
      return "enum " + (own.empty() ? std::string("(anon)") : own);
    }
    if (btf_is_array(t)) {
      std::string alias;
      const btf_type* elem = resolve(btf_array(t)->type, &alias);
      std::string elem_name = !alias.empty() ? alias : elem != nullptr ? describe(elem) : "?";
      return elem_name + "[" + std::to_string(btf_array(t)->nelems) + "]";
    }
    return own.empty() ? "?" : own;
  }

  bool buildEnum(const btf_type* t, Field& out) const {
    out.kind = validIntSize(out.size) ? Field::Kind::kEnum : Field::Kind::kBytes;
    out.is_signed = btf_kflag(t);
    uint16_t n = btf_vlen(t);
    for (uint16_t i = 0; i < n; i++) {
      if (btf_is_enum(t)) {
        const struct btf_enum* e = btf_enum(t) + i;
        int64_t v = out.is_signed ? static_cast<int64_t>(e->val)
                                  : static_cast<int64_t>(static_cast<uint32_t>(e->val));
        out.enumerators.emplace_back(name(e->name_off), v);
      } else {
        const struct btf_enum64* e = btf_enum64(t) + i;
        out.enumerators.emplace_back(name(e->name_off), static_cast<int64_t>(btf_enum64_value(e)));
      }
    }
    return true;
  }

  bool buildArray(const btf_type* t, bool in_weft, int depth, Field& out) const {
    const struct btf_array* array = btf_array(t);
    Field elem;
    if (!build(array->type, in_weft, depth + 1, elem)) {
      return false;
    }
    if (array->nelems == 0 || elem.size == 0 || array->nelems > kMaxArrayElements ||
        elem.size * array->nelems != out.size) {
      out.kind = Field::Kind::kBytes;
      return true;
    }
    bool is_char = elem.kind == Field::Kind::kInt && elem.size == 1 && elem.type_name == "char";
    out.kind = is_char ? Field::Kind::kString : Field::Kind::kArray;
    out.count = array->nelems;
    out.members.push_back(std::move(elem));
    return true;
  }

  bool buildStruct(const btf_type* t, bool in_weft, int depth, Field& out) const {
    std::string own = name(t->name_off);
    bool weft = startsWith(own, "weft_") || (own.empty() && in_weft);
    out.kind = Field::Kind::kStruct;

    uint16_t n = btf_vlen(t);
    const btf_member* members = btf_members(t);
    for (uint16_t i = 0; i < n; i++) {
      Field f;
      f.name = name(members[i].name_off);
      if (f.name.empty()) {
        f.name = "anon" + std::to_string(i);
      }
      if (!build(members[i].type, weft, depth + 1, f)) {
        return false;
      }
      uint32_t bit_off = btf_member_bit_offset(t, i);
      uint32_t bits = btf_member_bitfield_size(t, i);
      if (bits != 0) {
        if (f.kind != Field::Kind::kInt && f.kind != Field::Kind::kEnum) {
          return false;
        }
        f.offset = bit_off / 8;
        f.bit_offset = bit_off % 8;
        f.bit_size = bits;
        f.size = (f.bit_offset + bits + 7) / 8;
        if (f.size > 8) {
          return false;
        }
      } else if (bit_off % 8 != 0) {
        return false;
      } else {
        f.offset = bit_off / 8;
      }
      if (f.offset + f.size > out.size) {
        return false;
      }
      if (f.size != 0) {  // flexible array members hold nothing in a fixed-size map entry
        out.members.push_back(std::move(f));
      }
    }
    if (weft) {
      applyHints(own, out);
    }
    return true;
  }

  // The contract's conventions (maps/weft_maps.h), by member name.
  static void applyHints(const std::string& struct_name, Field& s) {
    bool has_family = false;
    for (const Field& f : s.members) {
      has_family = has_family || (f.name == "family" && f.kind == Field::Kind::kInt);
    }
    // weft_member carries the same state bits for a backend within one service.
    bool backend =
        startsWith(struct_name, "weft_backend") || startsWith(struct_name, "weft_member");
    for (Field& f : s.members) {
      if (isPadName(f.name)) {
        f.hint = Hint::kPad;
      } else if (f.name == "addr" && has_family && f.kind == Field::Kind::kArray && f.count == 4 &&
                 isWholeInt(f.members[0], 4)) {
        f.hint = Hint::kIpAddr;
      } else if (f.name == "family" && f.kind == Field::Kind::kInt) {
        f.hint = Hint::kFamily;
      } else if (f.name == "port" && isWholeInt(f, 2)) {
        f.hint = Hint::kPort;
      } else if (f.name == "proto" && isWholeInt(f, 1)) {
        f.hint = Hint::kProto;
      } else if (f.name == "algo" && f.kind == Field::Kind::kInt && f.bit_size == 0) {
        f.hint = Hint::kAlgo;
      } else if (f.name == "state" && backend && f.kind == Field::Kind::kInt && f.bit_size == 0) {
        f.hint = Hint::kBackendState;
      }
    }
  }

  const struct btf* btf_;
};

}  // namespace

Field plainLayout(uint32_t size, const std::string& name) {
  Field f;
  f.name = name;
  f.size = size;
  if (size == 1 || size == 2 || size == 4 || size == 8) {
    f.kind = Field::Kind::kInt;
    f.type_name = "__u" + std::to_string(size * 8);
  } else {
    f.kind = Field::Kind::kBytes;
    f.type_name = std::to_string(size) + " bytes";
  }
  return f;
}

Field buildLayout(const struct btf* btf, uint32_t type_id, uint32_t size, const std::string& name) {
  if (btf == nullptr || type_id == 0) {
    return plainLayout(size, name);
  }
  Field f;
  if (!Builder(btf).build(type_id, false, 0, f) || f.size != size) {
    return plainLayout(size, name);
  }
  f.name = name;
  return f;
}

bool isSummable(const Field& field) {
  switch (field.kind) {
    case Field::Kind::kInt:
      return field.hint == Hint::kNone || field.hint == Hint::kPad;
    case Field::Kind::kStruct:
      for (const Field& m : field.members) {
        if (m.hint != Hint::kPad && !isSummable(m)) {
          return false;
        }
      }
      return true;
    case Field::Kind::kArray:
      return isSummable(field.members[0]);
    default:
      return false;
  }
}

}  // namespace weft::cli
