// SPDX-License-Identifier: Apache-2.0
// Watches the config file with inotify and calls back, debounced, when it was rewritten.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>

#include "userspace/common/result.h"

namespace weft {

// Watches the file's directory, not the file: editors and config managers replace a file by
// renaming a new one over it, which a watch on the old inode would miss. Runs its handlers
// on the io_context it is given; `on_change` runs there too.
class ConfigWatcher {
 public:
  ConfigWatcher(boost::asio::io_context& io, std::string path, std::function<void()> on_change);
  ~ConfigWatcher();
  ConfigWatcher(const ConfigWatcher&) = delete;
  ConfigWatcher& operator=(const ConfigWatcher&) = delete;

  Status start();

 private:
  void readEvents();
  void scheduleChange();

  std::string path_;
  std::string dir_;
  std::string file_name_;
  std::function<void()> on_change_;
  boost::asio::posix::stream_descriptor stream_;
  boost::asio::steady_timer debounce_;
  std::array<char, 4096> buffer_{};
};

}  // namespace weft
