// Child-process control for integration tests: spawn an executable with its
// own argv and extra environment, stdout and stderr appended to a log file,
// then signal, wait for or kill it.
//
// A child started here gets PR_SET_PDEATHSIG(SIGKILL): if the test process
// dies (crash, abort, failed ASSERT in a death path) its children die too, so
// no server outlives its test. Linux delivers that signal when the *thread*
// that forked exits, so start children from the test's main thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace tsvault::testing {

// What to run.
struct ProcessOptions {
  // argv[0] is the path of the executable (no PATH lookup); must be non-empty.
  std::vector<std::string> argv;
  // Variables set on top of (or replacing) the test process' environment.
  std::vector<std::pair<std::string, std::string>> env;
  // stdout and stderr are appended to this file (created if missing);
  // empty sends both to /dev/null.
  std::string log_path;
};

// One child process. Not thread-safe: use one Process from one thread.
class Process {
 public:
  Process() = default;
  // Kills (SIGKILL) and reaps the child if it is still running.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts the child. Fails when a child is already running, when the log
  // file cannot be opened, or when exec fails (the error names the cause).
  Status Start(const ProcessOptions& options);

  // True while the child runs. Reaps it (and records its wait status) once
  // it has exited, so a later Start may reuse this object.
  bool IsAlive();

  // The child's pid, or -1 when none runs.
  pid_t pid() const { return pid_; }

  // Sends `signal` to the running child.
  Status Signal(int signal);

  // Waits up to `timeout` for the child to exit. True when it has exited
  // (or none was running); the raw wait status is then in last_wait_status().
  bool WaitForExit(std::chrono::milliseconds timeout);

  // SIGKILL and reap. No-op when nothing runs.
  void Kill();

  // SIGTERM, then waits up to `timeout`; sends SIGKILL if it is still alive.
  // OK only when the child exited by itself with exit code 0.
  Status Terminate(std::chrono::milliseconds timeout);

  // The wait status of the last child reaped (see DescribeWaitStatus).
  int last_wait_status() const { return last_wait_status_; }

 private:
  void Reaped(int wait_status);

  pid_t pid_ = -1;
  int last_wait_status_ = 0;
};

// Runs a program to completion, its output to `log`: its exit code, or -1
// when it cannot start, -2 when it ran past `timeout` (killed), -3 when a
// signal ended it.
int RunProgram(const std::vector<std::string>& argv, const std::string& log,
               std::chrono::seconds timeout = std::chrono::seconds(300));

// "exit code 0", "killed by signal 9", ... for a raw wait status.
std::string DescribeWaitStatus(int wait_status);

// The last `max_bytes` of a text file (whole lines where possible), or a
// note when it cannot be read. For failure messages that show a server log.
std::string ReadLogTail(const std::string& path, size_t max_bytes = 4000);

// Peak resident memory (VmHWM) of process `pid` in bytes; 0 if unknown.
uint64_t PeakResidentBytes(pid_t pid);

}  // namespace tsvault::testing
