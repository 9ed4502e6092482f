// `cnpgi-pgbackrest-sidecar pgbackrest ...` (and the image's `pgbr` wrapper): pgbackrest as an
// operator types it, configured exactly as the sidecar runs it.
#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cnpgi_pgbackrest/plugin/sidecar.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "config/cluster.h"
#include "config/names.h"
#include "plugin/sidecar_engine.h"
#include "wal/pgbackrest_wal_archive.h"

namespace cnpgi_pgbackrest {
namespace {

// --archive=NAME and --stanza=NAME leading args are ours; the rest is pgbackrest's.
struct ShellTarget {
  std::string archive;
  std::string stanza;
};

ShellTarget TakeTarget(std::vector<std::string>& args) {
  ShellTarget t;
  while (!args.empty()) {
    if (absl::StartsWith(args.front(), "--archive="))
      t.archive = args.front().substr(10);
    else if (absl::StartsWith(args.front(), "--stanza="))
      t.stanza = args.front().substr(9);
    else
      break;
    args.erase(args.begin());
  }
  return t;
}

// The use the shell acts on: what was asked, else the last Archive call's, else the only Archive.
absl::StatusOr<ArchiveUse> ShellUse(const SidecarOptions& options, const Engine& engine, ShellTarget target) {
  if (target.archive.empty()) {
    std::string last = ReadFileText(LastArchiveCallFile(options.work_dir));
    if (auto cluster = engine.Cluster(last); !last.empty() && cluster.ok() && cluster->archive) {
      if (target.stanza.empty()) target.stanza = cluster->archive->stanza;
      target.archive = cluster->archive->archive_name;
    }
  }
  std::vector<std::string> known = engine.ArchiveNames();
  if (target.archive.empty() && known.size() == 1) target.archive = known.front();
  if (target.archive.empty())
    return absl::FailedPreconditionError(absl::StrCat(
        "which Archive? Give --archive=NAME (this sidecar knows: ", known.empty() ? "none" : absl::StrJoin(known, ", "),
        ") before the pgbackrest command"));
  if (!known.empty() && std::find(known.begin(), known.end(), target.archive) == known.end())
    return absl::NotFoundError(absl::StrCat(
        "Archive '", target.archive, "' is not known to this sidecar (known: ", absl::StrJoin(known, ", "), ")"));
  if (target.stanza.empty()) {
    const char* cluster = std::getenv("CLUSTER_NAME");
    target.stanza = cluster ? cluster : "";
  }
  if (target.stanza.empty())
    return absl::FailedPreconditionError("which stanza? Give --stanza=NAME (no $CLUSTER_NAME in this container)");
  RETURN_IF_ERROR(CheckResourceName(target.archive, "--archive", "Archive"));
  RETURN_IF_ERROR(CheckStanzaName(target.stanza, "--stanza"));
  return ArchiveUse{.archive_name = target.archive, .stanza = target.stanza, .declared_at = "--archive"};
}

absl::Status Exec(const SidecarOptions& given, std::vector<std::string> args) {
  ShellTarget target = TakeTarget(args);
  if (args.empty()) return absl::InvalidArgumentError("no pgbackrest command (for example: info, check, verify)");
  for (const auto& a : args)
    if (absl::StartsWith(a, "--config=") || absl::StartsWith(a, "--stanza="))
      return absl::InvalidArgumentError(
          absl::StrCat(a.substr(0, a.find('=')), " is the plugin's: give --archive/--stanza before the command"));
  ASSIGN_OR_RETURN(auto options, ResolveSidecarOptions(given));
  ASSIGN_OR_RETURN(auto engine, MakeSidecarEngine(options));
  ASSIGN_OR_RETURN(auto use, ShellUse(options, *engine, target));
  ASSIGN_OR_RETURN(auto stanza, engine->Open(use));
  // pgBackRest's check insists that archive_command names pgbackrest; CNPG's names its instance
  // manager, which reaches pgBackRest through the plugin. The rest of the check still runs.
  auto command = std::find_if(args.begin(), args.end(), [](const std::string& a) { return a.empty() || a[0] != '-'; });
  bool archive_check_set = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return absl::StartsWith(a, "--archive-check") || absl::StartsWith(a, "--no-archive-check");
  });
  if (command != args.end() && *command == "check" && !archive_check_set) args.push_back("--no-archive-check");
  // Console output on, as a person reads it; the sidecar's own calls keep it off to parse JSON.
  return engine->Exec(stanza, {.args = args, .env = {"PGBACKREST_LOG_LEVEL_CONSOLE=info"}});
}

}  // namespace

int ExecPgbackrest(const SidecarOptions& options, std::vector<std::string> args) {
  absl::Status s = Exec(options, std::move(args));
  std::cerr << "pgbackrest shell: " << s.message() << "\n";
  return 2;
}

}  // namespace cnpgi_pgbackrest
