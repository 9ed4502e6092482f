#include "pgbackrest/runner.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

#include "stanza/stanza_state.h"

namespace cnpgi_pgbackrest {
namespace {

// Kubernetes service links (e.g. a Service named "pgbackrest") would become unknown
// PGBACKREST_* options and make pgBackRest warn on every call; only our own are passed.
bool IsInheritedPgbackrestVariable(absl::string_view name) { return absl::StartsWith(name, "PGBACKREST_"); }

// Exit 103 ("unable to find a valid repository") wraps the per-repository cause, which
// pgBackRest names as "repoN: [ErrorType]" on the ERROR line (push) or WARN lines (get).
absl::StatusCode CodeForRepoError(const std::string& text) {
  if (absl::StrContains(text, "[HostConnectError]") || absl::StrContains(text, "[FileReadError]") ||
      absl::StrContains(text, "[ServiceError]"))
    return absl::StatusCode::kUnavailable;
  if (absl::StrContains(text, "[ProtocolError]") && (absl::StrContains(text, "403") || absl::StrContains(text, "401")))
    return absl::StatusCode::kPermissionDenied;
  if (absl::StrContains(text, "[ProtocolError]")) return absl::StatusCode::kUnavailable;
  return absl::StatusCode::kFailedPrecondition;
}

absl::StatusCode CodeForExit(int exit_code) {
  switch (exit_code) {
    case kExitConfig:
    case kExitOptionInvalid:
    case kExitOptionInvalidValue:
    case kExitOptionRequired:
    case kExitArchiveMismatch:
    case kExitArchiveDuplicate:
    case kExitVersionNotSupported:
    case kExitBackupMismatch:
    case kExitFileMissing:
    case kExitDbMismatch:
    case kExitPathMissing:
    case kExitBackupSetInvalid:
    case kExitCrypto:
    case kExitPathNotEmpty:
      return absl::StatusCode::kFailedPrecondition;
    case kExitProtocol:
    case kExitHostConnect:
    case kExitLockAcquire:
    case kExitDbConnect:
    case kExitArchiveTimeout:
    case kExitService:
    case kExitFileOpen:
    case kExitFileRead:
      return absl::StatusCode::kUnavailable;
    case kExitAccess:
      return absl::StatusCode::kPermissionDenied;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

std::vector<std::string> PgbackrestRunner::Argv(const RenderedArchive& archive, const PgbackrestCall& call) const {
  std::vector<std::string> argv = {binary_, absl::StrCat("--config=", archive.config_path)};
  if (!call.stanza.empty()) argv.push_back(absl::StrCat("--stanza=", call.stanza));
  argv.insert(argv.end(), call.options.begin(), call.options.end());
  if (!call.command.empty()) argv.push_back(call.command);
  argv.insert(argv.end(), call.args.begin(), call.args.end());
  return argv;
}

ProcessSpec PgbackrestRunner::Spec(const RenderedArchive& archive, const PgbackrestCall& call) const {
  ProcessSpec spec;
  spec.argv = Argv(archive, call);
  spec.env = InheritedEnvironment(IsInheritedPgbackrestVariable);
  spec.env.insert(spec.env.end(), call.env.begin(), call.env.end());
  spec.env.insert(spec.env.end(), archive.secret_env.begin(), archive.secret_env.end());
  spec.timeout = call.timeout;
  spec.cancelled = call.cancelled;
  return spec;
}

absl::StatusOr<ProcessResult> PgbackrestRunner::Run(const RenderedArchive& archive, const PgbackrestCall& call) const {
  return RunProcess(Spec(archive, call));
}

absl::Status PgbackrestRunner::Exec(const RenderedArchive& archive, const PgbackrestCall& call) const {
  return ExecProcess(Spec(archive, call));
}

std::string PgbackrestErrorText(const ProcessResult& result) {
  std::vector<std::string> picked;
  std::vector<absl::string_view> all;
  for (const std::string* text : {&result.err, &result.out}) {
    for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
      line = absl::StripAsciiWhitespace(line);
      all.push_back(line);
      // pgBackRest prefixes with a timestamp and process id when logging to a file-like target.
      auto pos = line.find("ERROR: [");
      if (pos == absl::string_view::npos) pos = line.find("HINT: ");
      // Each repository's own failure: "repo1: [ErrorType] ..." after the ERROR line (push) or
      // in a WARN before it (get).
      if (pos == absl::string_view::npos && absl::StrContains(line, "WARN: repo")) pos = line.find("repo");
      if (pos == absl::string_view::npos && absl::StartsWith(line, "repo") && absl::StrContains(line, ": [")) pos = 0;
      if (pos != absl::string_view::npos) picked.emplace_back(line.substr(pos));
    }
  }
  if (picked.empty()) {
    std::size_t from = all.size() > 3 ? all.size() - 3 : 0;
    for (std::size_t i = from; i < all.size(); ++i) picked.emplace_back(all[i]);
  }
  return CleanPgbackrestMessage(absl::StrJoin(picked, " "));
}

std::string CleanPgbackrestMessage(std::string text) {
  // An info file read with the wrong key is quoted back as binary: keep only what precedes it.
  static const std::string kGarbageAfter = "found outside of section at line 1: ";
  bool wrong_key = false;
  for (std::size_t at = text.find(kGarbageAfter); at != std::string::npos; at = text.find(kGarbageAfter, at)) {
    std::size_t from = at + kGarbageAfter.size();
    std::size_t hint = text.find("HINT:", from);
    std::size_t next = text.find("FormatError", from);
    std::size_t end = std::min(hint, next);
    text = text.substr(0, from) + "<binary data> " + (end == std::string::npos ? "" : text.substr(end));
    at = from;
    wrong_key = true;
  }
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = ' ';
  if (text.size() > 2000) text = text.substr(0, 2000) + "...";
  if (wrong_key || absl::StrContains(text, "[CryptoError] unable to flush") ||
      absl::StrContains(text, "cipher header invalid"))
    absl::StrAppend(&text,
                    " (the repository does not decrypt with the configured key: check the Archive's "
                    "encryption and encryptionKey)");
  // archive-push [ArchiveMismatchError], backup [051] and stanza-create [028] when pg_control is
  // not the stanza's database.
  if ((absl::StrContains(text, "system-id") && absl::StrContains(text, "do not match")) ||
      absl::StrContains(text, "do not match the database"))
    absl::StrAppend(&text, " (", kForeignStanzaHint, ")");
  return text;
}

absl::Status PgbackrestStatus(const ProcessResult& result, absl::string_view what) {
  if (result.ok()) return absl::OkStatus();
  if (result.cancelled) return absl::CancelledError(absl::StrCat(what, " was cancelled by the caller"));
  if (result.timed_out)
    return absl::DeadlineExceededError(
        absl::StrCat(what, " did not finish within ", result.elapsed.count() / 1000, " s and was stopped"));
  if (result.term_signal != 0)
    return absl::InternalError(absl::StrCat(what, " was killed by signal ", result.term_signal));
  std::string text = PgbackrestErrorText(result);
  absl::StatusCode code =
      result.exit_code == kExitRepoInvalid ? CodeForRepoError(result.err) : CodeForExit(result.exit_code);
  return absl::Status(
      code, absl::StrCat(what, " failed (pgbackrest exit ", result.exit_code, ")", text.empty() ? "" : ": ", text));
}

}  // namespace cnpgi_pgbackrest
