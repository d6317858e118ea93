// SPDX-License-Identifier: Apache-2.0
// An io_context on its own thread for the health checker and DNS server tests, with a way
// to run code on that thread and wait for it (both components are single-threaded).
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <future>
#include <thread>

namespace weft::e2e {

class IoThread {
 public:
  IoThread() : guard_(boost::asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
  ~IoThread() { stop(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& io() { return io_; }

  // Runs `fn` on the io thread and returns when it is done; does nothing after stop().
  void call(const std::function<void()>& fn) {
    if (stopped_) {
      return;
    }
    std::promise<void> done;
    boost::asio::post(io_, [&] {
      fn();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Stops the loop and joins the thread; pending handlers are destroyed with the io_context.
  void stop() {
    if (stopped_) {
      return;
    }
    stopped_ = true;
    guard_.reset();
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace weft::e2e
