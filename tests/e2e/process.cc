// SPDX-License-Identifier: Apache-2.0
// fork/exec with captured output and bounded waits.
#include "tests/e2e/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

namespace weft::e2e {
namespace {

using Clock = std::chrono::steady_clock;
constexpr milliseconds kWaitPollInterval(2);

// Built before fork: the child of a threaded process must not allocate.
std::vector<char*> cArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (const std::string& arg : argv) {
    out.push_back(const_cast<char*>(arg.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

// In the child: die with the test process so nothing outlives a crashed run.
void execChild(char* const* argv, int out_fd, int err_fd) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  int null_fd = ::open("/dev/null", O_RDONLY);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
  }
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  ::execv(argv[0], argv);
  ::_exit(127);
}

// Returns the wait status, or -1 if the child is still running after `timeout`.
int waitPid(pid_t pid, milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      return status;
    }
    if (r < 0 && errno != EINTR) {
      return -1;
    }
    if (Clock::now() >= deadline) {
      return -1;
    }
    std::this_thread::sleep_for(kWaitPollInterval);
  }
}

}  // namespace

Subprocess Subprocess::spawn(const std::vector<std::string>& argv, const std::string& log_path) {
  std::vector<char*> args = cArgv(argv);
  const char* path = log_path.empty() ? "/dev/null" : log_path.c_str();
  int log_fd = ::open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Subprocess();
  }

  pid_t pid = ::fork();
  if (pid == 0) {
    execChild(args.data(), log_fd, log_fd);
  }
  ::close(log_fd);
  return pid > 0 ? Subprocess(pid) : Subprocess();
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), status_(other.status_) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    stop();
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
  }
  return *this;
}

Subprocess::~Subprocess() {
  stop();
}

bool Subprocess::running() {
  if (pid_ < 0) {
    return false;
  }
  return waitExit(milliseconds(0)) == -1;
}

bool Subprocess::signal(int sig) const {
  return pid_ > 0 && ::kill(pid_, sig) == 0;
}

int Subprocess::waitExit(milliseconds timeout) {
  if (pid_ < 0) {
    return status_;
  }
  int status = waitPid(pid_, timeout);
  if (status != -1) {
    status_ = status;
    pid_ = -1;
  }
  return status;
}

int Subprocess::stop(milliseconds grace) {
  if (pid_ < 0) {
    return status_;
  }
  signal(SIGTERM);
  if (waitExit(grace) != -1) {
    return status_;
  }
  return kill();
}

int Subprocess::kill() {
  if (pid_ < 0) {
    return status_;
  }
  signal(SIGKILL);
  // SIGKILL cannot be ignored; the bound only guards against a stuck kernel.
  waitExit(milliseconds(10000));
  return status_;
}

CommandResult runCommand(const std::vector<std::string>& argv, milliseconds timeout) {
  CommandResult result;
  std::vector<char*> args = cArgv(argv);
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return result;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return result;
  }

  pid_t pid = ::fork();
  if (pid == 0) {
    execChild(args.data(), out_pipe[1], err_pipe[1]);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid < 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return result;
  }

  auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 || ::poll(fds, 2, static_cast<int>(left)) < 0) {
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) {
        continue;
      }
      char buf[4096];
      ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) {
      ::close(p.fd);
    }
  }

  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  int status = waitPid(pid, std::max(left, milliseconds(0)));
  if (status == -1) {
    ::kill(pid, SIGKILL);
    waitPid(pid, milliseconds(10000));
    return result;
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  }
  return result;
}

std::string toolPath(const std::string& name) {
  const char* env = std::getenv("PATH");
  std::string dirs = std::string(env ? env : "") + ":/usr/local/sbin:/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) {
      end = dirs.size();
    }
    std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return name;
}

std::string joinArgs(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& arg : argv) {
    out += (out.empty() ? "" : " ") + arg;
  }
  return out;
}

}  // namespace weft::e2e
