// SPDX-License-Identifier: Apache-2.0
// Connection-rate benchmark: an epoll backend that answers one request and closes, and a
// single-threaded client that times connect + request/response + close per connection.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kRequest[] = "ping\n";
constexpr size_t kRequestLen = sizeof(kRequest) - 1;
constexpr int kIoTimeoutSec = 2;  // bounds every connect and read
constexpr int kMaxEvents = 256;
constexpr int kBacklog = 4096;

volatile sig_atomic_t g_stop = 0;

void onStopSignal(int) {
  g_stop = 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: weft_connect_bench server PORT [ADDR]\n"
               "       weft_connect_bench client ADDR PORT N [MAX_SECONDS] [WARMUP]\n"
               "server: epoll backend on ADDR:PORT (default 127.0.0.1), answers one request\n"
               "        per connection and closes; runs until SIGTERM or SIGINT\n"
               "client: N measured connections one at a time (stops after MAX_SECONDS,\n"
               "        default 10), after WARMUP unmeasured ones (default 500)\n");
  return 2;
}

std::optional<long> parseNumber(const char* text, long min, long max) {
  char* end = nullptr;
  errno = 0;
  long value = std::strtol(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<sockaddr_in> parseEndpoint(const char* addr, const char* port) {
  auto port_value = parseNumber(port, 1, 65535);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (!port_value || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
    std::fprintf(stderr, "endpoint %s:%s: not an IPv4 address and port\n", addr, port);
    return std::nullopt;
  }
  sa.sin_port = htons(static_cast<uint16_t>(*port_value));
  return sa;
}

// --- server ---------------------------------------------------------------------------------

void acceptAll(int listen_fd, int epoll_fd) {
  for (;;) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      return;  // EAGAIN once the queue is empty; other errors are per-connection
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
    }
  }
}

// Answers and closes at once, so TIME_WAIT lands on the server side and the client's
// ephemeral ports are free again for the next connection.
void answer(int fd) {
  char buf[256];
  ssize_t n = read(fd, buf, sizeof(buf));
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
    return;
  }
  // A failed write needs no handling: the connection is closed either way.
  if (n > 0 && write(fd, buf, static_cast<size_t>(n)) < 0) {
    n = 0;
  }
  close(fd);
}

int runServer(const sockaddr_in& addr) {
  int listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (listen_fd < 0 || bind(listen_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) ||
      listen(listen_fd, kBacklog)) {
    std::fprintf(stderr, "server: listen on port %u: %s\n", ntohs(addr.sin_port),
                 std::strerror(errno));
    return 1;
  }

  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listen_fd;
  if (epoll_fd < 0 || epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev) != 0) {
    std::fprintf(stderr, "server: epoll: %s\n", std::strerror(errno));
    return 1;
  }

  // No SA_RESTART: the signal must interrupt epoll_wait.
  struct sigaction sa {};
  sa.sa_handler = onStopSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  epoll_event events[kMaxEvents];
  while (!g_stop) {
    int n = epoll_wait(epoll_fd, events, kMaxEvents, 1000);
    for (int i = 0; i < n; ++i) {
      if (events[i].data.fd == listen_fd) {
        acceptAll(listen_fd, epoll_fd);
      } else {
        answer(events[i].data.fd);
      }
    }
  }
  close(epoll_fd);
  close(listen_fd);
  return 0;
}

// --- client ---------------------------------------------------------------------------------

// One connection, start to finish. Returns its duration in nanoseconds, or -errno.
int64_t timeOneConnection(const sockaddr_in& addr) {
  auto start = Clock::now();
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -errno;
  }
  timeval timeout{kIoTimeoutSec, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  int err = 0;
  size_t received = 0;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0 ||
      write(fd, kRequest, kRequestLen) != static_cast<ssize_t>(kRequestLen)) {
    err = errno;
  }
  while (err == 0) {
    char buf[64];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      err = errno;
    } else if (n == 0) {
      break;
    } else {
      received += static_cast<size_t>(n);
    }
  }
  close(fd);

  if (err == 0 && received != kRequestLen) {
    err = EPROTO;
  }
  if (err != 0) {
    return -err;
  }
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
}

double percentileUs(std::vector<int64_t>& sorted_ns, double q) {
  if (sorted_ns.empty()) {
    return 0;
  }
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted_ns.size())));
  return static_cast<double>(sorted_ns[std::clamp<size_t>(rank, 1, sorted_ns.size()) - 1]) / 1e3;
}

int runClient(const sockaddr_in& addr, long count, long max_seconds, long warmup) {
  int first_error = 0;
  long errors = 0;
  auto warmup_deadline = Clock::now() + std::chrono::seconds(max_seconds);
  for (long i = 0; i < warmup && Clock::now() < warmup_deadline; ++i) {
    timeOneConnection(addr);
  }

  std::vector<int64_t> latencies;
  latencies.reserve(static_cast<size_t>(count));
  auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(max_seconds);
  for (long i = 0; i < count && Clock::now() < deadline; ++i) {
    int64_t result = timeOneConnection(addr);
    if (result < 0) {
      ++errors;
      first_error = first_error ? first_error : static_cast<int>(-result);
    } else {
      latencies.push_back(result);
    }
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::sort(latencies.begin(), latencies.end());
  std::printf("count=%zu errors=%ld seconds=%.3f rate=%.0f p50_us=%.1f p99_us=%.1f error=%s\n",
              latencies.size(), errors, seconds, static_cast<double>(latencies.size()) / seconds,
              percentileUs(latencies, 0.50), percentileUs(latencies, 0.99),
              first_error ? std::strerror(first_error) : "none");
  return latencies.empty() ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "server" && (argc == 3 || argc == 4)) {
    auto addr = parseEndpoint(argc == 4 ? argv[3] : "127.0.0.1", argv[2]);
    return addr ? runServer(*addr) : 2;
  }
  if (mode == "client" && argc >= 5 && argc <= 7) {
    auto addr = parseEndpoint(argv[2], argv[3]);
    auto count = parseNumber(argv[4], 1, 10'000'000);
    auto max_seconds = parseNumber(argc > 5 ? argv[5] : "10", 1, 3600);
    auto warmup = parseNumber(argc > 6 ? argv[6] : "500", 0, 1'000'000);
    if (!addr || !count || !max_seconds || !warmup) {
      return usage();
    }
    return runClient(*addr, *count, *max_seconds, *warmup);
  }
  return usage();
}
