// Child processes with bounded time and output, for running pgbackrest.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

struct ProcessSpec {
  std::vector<std::string> argv;         // argv[0] is looked up in PATH
  std::vector<std::string> env;          // the child's whole environment, NAME=VALUE
  std::string working_dir;               // empty: inherit
  std::chrono::milliseconds timeout{0};  // zero: no limit
  std::function<bool()> cancelled;       // polled; returning true stops the child
  std::size_t max_output_bytes = 1 << 20;
};

struct ProcessResult {
  int exit_code = -1;  // meaningful when term_signal == 0
  int term_signal = 0;
  bool timed_out = false;
  bool cancelled = false;
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};

  bool ok() const { return term_signal == 0 && exit_code == 0 && !timed_out && !cancelled; }
};

// Runs the program to completion; an error status means it could not be started.
absl::StatusOr<ProcessResult> RunProcess(const ProcessSpec& spec);

// Replaces this process with spec's program (argv, env, working_dir; no timeout applies):
// returns only when that fails, with the reason.
absl::Status ExecProcess(const ProcessSpec& spec);

// This process's environment without the variables for which drop(name) is true.
std::vector<std::string> InheritedEnvironment(const std::function<bool(absl::string_view)>& drop = {});

}  // namespace cnpgi_pgbackrest
