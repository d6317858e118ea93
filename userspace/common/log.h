// SPDX-License-Identifier: Apache-2.0
// Structured logging: one JSON object a line on stderr, {ts, level, component, msg, fields...}.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace weft::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// A key and its value, already rendered as text; numbers stay numbers in JSON
// when `numeric` is set.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, long long v) : key(k), value(std::to_string(v)), numeric(true) {}
  Field(std::string_view k, unsigned long long v)
      : key(k), value(std::to_string(v)), numeric(true) {}
  Field(std::string_view k, int v) : Field(k, static_cast<long long>(v)) {}
  Field(std::string_view k, unsigned v) : Field(k, static_cast<unsigned long long>(v)) {}
  Field(std::string_view k, long v) : Field(k, static_cast<long long>(v)) {}
  Field(std::string_view k, unsigned long v) : Field(k, static_cast<unsigned long long>(v)) {}
  // Three decimals: enough for durations in milliseconds.
  Field(std::string_view k, double v) : key(k), value(fmt::format("{:.3f}", v)), numeric(true) {}

  std::string key;
  std::string value;
  bool numeric = false;
};

// Thread-safe. Lines below the threshold are dropped before formatting.
void setLevel(Level level);
bool parseLevel(std::string_view text, Level* out);
void write(Level level, std::string_view component, std::string_view msg,
           std::initializer_list<Field> fields = {});

inline void debug(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kDebug, c, m, f);
}
inline void info(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, c, m, f);
}
inline void warn(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, c, m, f);
}
inline void error(std::string_view c, std::string_view m, std::initializer_list<Field> f = {}) {
  write(Level::kError, c, m, f);
}

}  // namespace weft::log
