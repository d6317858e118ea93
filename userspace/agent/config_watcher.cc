// SPDX-License-Identifier: Apache-2.0
// inotify-based config file watching.
#include "userspace/agent/config_watcher.h"

#include <sys/inotify.h>

#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "userspace/common/log.h"

namespace weft {
namespace {

// Writers often truncate and write in several steps; wait for the burst to end.
constexpr auto kDebounce = std::chrono::milliseconds(200);

}  // namespace

ConfigWatcher::ConfigWatcher(boost::asio::io_context& io, std::string path,
                             std::function<void()> on_change)
    : path_(std::move(path)), on_change_(std::move(on_change)), stream_(io), debounce_(io) {
  std::filesystem::path p = std::filesystem::absolute(path_);
  dir_ = p.parent_path().string();
  file_name_ = p.filename().string();
}

ConfigWatcher::~ConfigWatcher() {
  boost::system::error_code ec;
  stream_.close(ec);
}

Status ConfigWatcher::start() {
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    return makeError("config watch: inotify_init1: " + std::string(std::strerror(errno)), errno);
  }
  if (::inotify_add_watch(fd, dir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE) < 0) {
    int err = errno;
    ::close(fd);
    return makeError("config watch: " + dir_ + ": " + std::strerror(err), err);
  }
  stream_.assign(fd);
  readEvents();
  return {};
}

void ConfigWatcher::readEvents() {
  stream_.async_read_some(
      boost::asio::buffer(buffer_), [this](const boost::system::error_code& ec, size_t n) {
        if (ec) {
          if (ec != boost::asio::error::operation_aborted) {
            log::error("config", "watch stopped", {{"error", ec.message()}});
          }
          return;
        }
        size_t offset = 0;
        bool ours = false;
        while (offset + sizeof(inotify_event) <= n) {
          const auto* ev = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
          if (ev->len > 0 && file_name_ == ev->name) {
            ours = true;
          }
          offset += sizeof(inotify_event) + ev->len;
        }
        if (ours) {
          scheduleChange();
        }
        readEvents();
      });
}

void ConfigWatcher::scheduleChange() {
  debounce_.expires_after(kDebounce);
  debounce_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) {
      on_change_();
    }
  });
}

}  // namespace weft
