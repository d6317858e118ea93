// SPDX-License-Identifier: Apache-2.0
// JSON-lines log writer. One write(2) per line so lines from threads never interleave.
#include "userspace/common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>

namespace weft::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};

const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void setLevel(Level level) {
  g_level.store(static_cast<int>(level));
}

bool parseLevel(std::string_view text, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == levelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view component, std::string_view msg,
           std::initializer_list<Field> fields) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) {
    return;
  }

  auto now = std::chrono::system_clock::now();
  double ts = std::chrono::duration<double>(now.time_since_epoch()).count();
  nlohmann::ordered_json line;
  line["ts"] = ts;
  line["level"] = levelName(level);
  line["component"] = component;
  line["msg"] = msg;
  for (const Field& f : fields) {
    if (f.numeric) {
      line[f.key] = nlohmann::json::parse(f.value);
    } else {
      line[f.key] = f.value;
    }
  }

  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  ssize_t unused = ::write(STDERR_FILENO, text.data(), text.size());
  (void)unused;
}

}  // namespace weft::log
