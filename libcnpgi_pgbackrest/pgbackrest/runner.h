// Runs pgbackrest commands for a rendered Archive and turns failures into precise statuses.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/process.h"
#include "pgbackrest/config_file.h"

namespace cnpgi_pgbackrest {

// pgBackRest exit codes we act on (src/build/error/error.yaml).
enum PgbackrestExit : int {
  kExitArchiveGetNotFound = 1,  // archive-get: segment not in the archive
  kExitConfig = 27,
  kExitOptionInvalid = 31,
  kExitOptionInvalidValue = 32,
  kExitOptionRequired = 37,
  kExitProtocol = 39,
  kExitPathNotEmpty = 40,
  kExitFileOpen = 41,
  kExitFileRead = 42,
  kExitArchiveMismatch = 44,
  kExitArchiveDuplicate = 45,
  kExitVersionNotSupported = 46,
  kExitHostConnect = 49,
  kExitLockAcquire = 50,
  kExitBackupMismatch = 51,
  kExitFileMissing = 55,
  kExitDbConnect = 56,
  kExitDbMismatch = 58,
  kExitPathMissing = 73,
  kExitBackupSetInvalid = 75,
  kExitArchiveTimeout = 82,
  kExitCrypto = 95,
  kExitService = 101,
  kExitRepoInvalid = 103,
  kExitAccess = 105,
};

struct PgbackrestCall {
  std::string command;               // archive-push, archive-get, stanza-create, info, ...
  std::string stanza;                // empty: no --stanza
  std::vector<std::string> options;  // --key=value, never secrets
  std::vector<std::string> args;     // positional arguments after the command
  std::vector<std::string> env;      // extra PGBACKREST_* options, read only where valid
  std::chrono::milliseconds timeout{std::chrono::minutes(10)};
  std::function<bool()> cancelled;
};

class PgbackrestRunner {
 public:
  explicit PgbackrestRunner(std::string binary = "pgbackrest") : binary_(std::move(binary)) {}

  // Runs one command; the status is about starting it, the result carries the exit.
  absl::StatusOr<ProcessResult> Run(const RenderedArchive& archive, const PgbackrestCall& call) const;

  // Replaces this process with the command (an operator's shell): returns only when it cannot.
  absl::Status Exec(const RenderedArchive& archive, const PgbackrestCall& call) const;

  // The argv Run would execute (for tests and logs: it never contains secrets). An empty command
  // leaves the command to args.
  std::vector<std::string> Argv(const RenderedArchive& archive, const PgbackrestCall& call) const;

 private:
  // argv and the whole environment: ours without inherited PGBACKREST_*, then the call's, then secrets.
  ProcessSpec Spec(const RenderedArchive& archive, const PgbackrestCall& call) const;

  std::string binary_;
};

// OK for exit 0; otherwise a status whose code fits the failure and whose message quotes pgBackRest.
absl::Status PgbackrestStatus(const ProcessResult& result, absl::string_view what);

// pgBackRest text made fit for a status message: printable, decrypted garbage cut out, and a
// hint where the cause is almost always a wrong encryption key.
std::string CleanPgbackrestMessage(std::string text);

// The "ERROR: [nnn]: ..." and "HINT: ..." lines of pgBackRest output, joined; or the last lines.
std::string PgbackrestErrorText(const ProcessResult& result);

}  // namespace cnpgi_pgbackrest
