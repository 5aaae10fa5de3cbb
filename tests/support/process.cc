#include "tests/support/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace tsvault::testing {

namespace {

using Clock = std::chrono::steady_clock;

// Everything the child needs, prepared before fork(): after fork() in a
// multithreaded parent only async-signal-safe calls are allowed.
struct ExecPlan {
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

ExecPlan MakePlan(const ProcessOptions& options) {
  ExecPlan plan;
  plan.argv_storage = options.argv;
  std::set<std::string> overridden;
  for (const auto& [name, value] : options.env) overridden.insert(name);
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text(*entry);
    std::string name = text.substr(0, text.find('='));
    if (!overridden.count(name)) plan.env_storage.push_back(std::move(text));
  }
  for (const auto& [name, value] : options.env) plan.env_storage.push_back(name + "=" + value);
  for (auto& arg : plan.argv_storage) plan.argv.push_back(arg.data());
  plan.argv.push_back(nullptr);
  for (auto& var : plan.env_storage) plan.envp.push_back(var.data());
  plan.envp.push_back(nullptr);
  return plan;
}

// Runs in the child between fork() and exec(); async-signal-safe calls only.
[[noreturn]] void ChildExec(const ExecPlan& plan, int log_fd, int error_pipe, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent died before prctl
  // Undo signal state inherited from the test process.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
  dup2(log_fd, STDOUT_FILENO);
  dup2(log_fd, STDERR_FILENO);
  // Close every other inherited descriptor (the test's sockets, ...) except
  // the close-on-exec error pipe, which exec closes when it succeeds.
  for (int fd = 3; fd < 4096; ++fd) {
    if (fd != error_pipe) close(fd);
  }
  execve(plan.argv[0], plan.argv.data(), plan.envp.data());
  int error = errno;
  ssize_t ignored = write(error_pipe, &error, sizeof(error));
  (void)ignored;
  _exit(127);
}

}  // namespace

Process::~Process() { Kill(); }

Status Process::Start(const ProcessOptions& options) {
  if (IsAlive()) return Status::InvalidArgument("process already running, pid " + std::to_string(pid_));
  if (options.argv.empty() || options.argv[0].empty()) return Status::InvalidArgument("empty argv");
  const std::string log_path = options.log_path.empty() ? "/dev/null" : options.log_path;
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Status::IOError("cannot open log " + log_path + ": " + strerror(errno));
  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) {
    close(log_fd);
    return Status::IOError(std::string("pipe2: ") + strerror(errno));
  }
  ExecPlan plan = MakePlan(options);
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child == 0) ChildExec(plan, log_fd, error_pipe[1], parent);
  int fork_errno = errno;
  close(log_fd);
  close(error_pipe[1]);
  if (child < 0) {
    close(error_pipe[0]);
    return Status::IOError(std::string("fork: ") + strerror(fork_errno));
  }
  // The pipe closes without data when exec succeeds.
  int exec_errno = 0;
  ssize_t n;
  do {
    n = read(error_pipe[0], &exec_errno, sizeof(exec_errno));
  } while (n < 0 && errno == EINTR);
  close(error_pipe[0]);
  pid_ = child;
  if (n == static_cast<ssize_t>(sizeof(exec_errno))) {
    Kill();
    return Status::IOError("cannot execute " + options.argv[0] + ": " + strerror(exec_errno));
  }
  return Status::OK();
}

void Process::Reaped(int wait_status) {
  last_wait_status_ = wait_status;
  pid_ = -1;
}

bool Process::IsAlive() {
  if (pid_ < 0) return false;
  int wait_status = 0;
  pid_t r = waitpid(pid_, &wait_status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    Reaped(wait_status);
  } else {
    pid_ = -1;  // ECHILD: not ours any more
  }
  return false;
}

Status Process::Signal(int signal) {
  if (!IsAlive()) return Status::NotFound("no running process");
  if (kill(pid_, signal) != 0) return Status::IOError(std::string("kill: ") + strerror(errno));
  return Status::OK();
}

bool Process::WaitForExit(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (IsAlive()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return true;
}

void Process::Kill() {
  if (pid_ < 0) return;
  kill(pid_, SIGKILL);
  int wait_status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &wait_status, 0);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    Reaped(wait_status);
  } else {
    pid_ = -1;
  }
}

Status Process::Terminate(std::chrono::milliseconds timeout) {
  if (!IsAlive()) return Status::NotFound("no running process");
  kill(pid_, SIGTERM);
  if (!WaitForExit(timeout)) {
    Kill();
    return Status::DeadlineExceeded("did not exit within " + std::to_string(timeout.count()) +
                                    "ms of SIGTERM; killed");
  }
  if (!WIFEXITED(last_wait_status_) || WEXITSTATUS(last_wait_status_) != 0) {
    return Status::Internal("after SIGTERM: " + DescribeWaitStatus(last_wait_status_));
  }
  return Status::OK();
}

std::string DescribeWaitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status)) + " (" +
           strsignal(WTERMSIG(wait_status)) + ")";
  }
  return "wait status " + std::to_string(wait_status);
}

std::string ReadLogTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(cannot read " + path + ")";
  std::ostringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  if (text.size() <= max_bytes) return text;
  text = text.substr(text.size() - max_bytes);
  size_t newline = text.find('\n');
  if (newline != std::string::npos && newline + 1 < text.size()) text = text.substr(newline + 1);
  return "...\n" + text;
}

int RunProgram(const std::vector<std::string>& argv, const std::string& log, std::chrono::seconds timeout) {
  Process process;
  if (!process.Start({argv, {}, log}).ok()) return -1;
  if (!process.WaitForExit(timeout)) {
    process.Kill();
    return -2;
  }
  const int status = process.last_wait_status();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

uint64_t PeakResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace tsvault::testing
