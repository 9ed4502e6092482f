#include "wal/pgbackrest_wal_restore.h"

#include <fcntl.h>
#include <filesystem>
#include <thread>
#include <unistd.h>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/status_macros.h"
#include "common/text.h"
#include "common/unique_fd.h"
#include "common/wal_name.h"

namespace cnpgi_pgbackrest {

absl::StatusOr<ArchiveUse> RestoreSource(const ClusterView& cluster, absl::string_view pod_name) {
  if (cluster.replica_source && cluster.promotion_in_progress) return *cluster.replica_source;
  if (cluster.replica_source && cluster.is_replica && !cluster.current_primary.empty() &&
      cluster.current_primary == pod_name)
    return *cluster.replica_source;
  if (cluster.current_primary.empty()) {
    if (cluster.recovery_source) return *cluster.recovery_source;
    if (cluster.replica_source) return *cluster.replica_source;
  }
  if (cluster.archive) return *cluster.archive;
  if (cluster.recovery_source) return *cluster.recovery_source;
  if (cluster.replica_source) return *cluster.replica_source;
  if (!cluster.archive_problem.ok()) return cluster.archive_problem;
  return absl::FailedPreconditionError(
      absl::StrCat("Cluster '", cluster.name, "' names no Archive of this plugin to restore WAL from"));
}

bool StreamingPossible(const ClusterView& cluster, absl::string_view pod_name) {
  if (cluster.current_primary.empty()) return false;  // bootstrap: nothing to stream from
  if (cluster.current_primary != pod_name) return true;
  return cluster.is_replica && cluster.replica_source.has_value() && cluster.replica_source_streams;
}

absl::Status PgbackrestWalRestore::Fetch(const Stanza& stanza, const std::string& name, const std::string& dest,
                                         const std::function<bool()>& cancelled) {
  // archive-get writes in place; a temporary name plus rename means nobody sees a partial file.
  std::string tmp = absl::StrCat(dest, ".cnpgi-partial");
  unlink(tmp.c_str());
  PgbackrestCall get{
      .command = "archive-get", .args = {name, tmp}, .timeout = engine_->options().wal_timeout, .cancelled = cancelled};
  ASSIGN_OR_RETURN(auto result, engine_->Run(stanza, get));
  std::string where = Describe(stanza.use);
  if (result.exit_code == kExitArchiveGetNotFound && !result.timed_out && !result.cancelled &&
      result.term_signal == 0) {
    unlink(tmp.c_str());
    return absl::NotFoundError(absl::StrCat("WAL file ", name, " is not in ", where));
  }
  if (auto s = PgbackrestStatus(result, absl::StrCat("restoring ", name, " from ", where)); !s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  if (access(tmp.c_str(), F_OK) != 0)
    return absl::InternalError(absl::StrCat("pgbackrest archive-get reported success but wrote no file for ", name));
  if (rename(tmp.c_str(), dest.c_str()) != 0) {
    unlink(tmp.c_str());
    return absl::InternalError(absl::StrCat("cannot move restored ", name, " to ", dest));
  }
  return absl::OkStatus();
}

absl::Status PgbackrestWalRestore::Restore(const WalRestoreRequest& request) {
  ASSIGN_OR_RETURN(auto cluster, engine_->Cluster(request.cluster_definition));
  const std::string& name = request.source_wal_name;
  auto kind = ClassifyWalName(name);
  if (!kind)
    return absl::InvalidArgumentError(absl::StrCat("source_wal_name ", Quoted(name), " is not a WAL file name"));
  const std::string& dest = request.destination_file_name;
  RETURN_IF_ERROR(CheckCleanAbsolutePath(dest, "destination_file_name"));
  const std::string& pgdata = engine_->options().instance.pgdata;
  if (!IsInsideDirectory(dest, pgdata))
    return absl::InvalidArgumentError(
        absl::StrCat("destination_file_name ", Quoted(dest), " is outside the data directory ", pgdata));

  ASSIGN_OR_RETURN(auto use, RestoreSource(cluster, engine_->options().pod_name));
  ASSIGN_OR_RETURN(auto stanza, engine_->Open(use));

  bool rewind = request.mode == WalRestoreMode::kRewind;
  std::string spool = absl::StrCat(options_.spool_dir, "/", use.archive_name, "/", use.stanza);
  std::string flag = absl::StrCat(spool, "/", kEndOfWalStreamFlag);
  if (rewind) {
    // pg_rewind wants exactly this file; a flag left by recovery must not end its run.
    unlink(flag.c_str());
    return Fetch(stanza, name, dest, request.cancelled);
  }
  bool prefetching = options_.prefetch > 1 && !options_.spool_dir.empty() && kind == WalFileKind::kSegment;
  // During a token-based promotion the demoted side archived its last segment as .partial;
  // pgBackRest finds it only by that name, and PostgreSQL replays it as the segment.
  auto fetch_requested = [&]() {
    absl::Status s = Fetch(stanza, name, dest, request.cancelled);
    if (absl::IsNotFound(s) && kind == WalFileKind::kSegment && cluster.promotion_in_progress) {
      absl::Status partial = Fetch(stanza, absl::StrCat(name, ".partial"), dest, request.cancelled);
      if (!absl::IsNotFound(partial)) return partial;
    }
    return s;
  };
  if (!prefetching) return fetch_requested();

  std::error_code ec;
  std::filesystem::create_directories(spool, ec);
  std::string spooled = absl::StrCat(spool, "/", name);
  if (rename(spooled.c_str(), dest.c_str()) == 0) return absl::OkStatus();
  bool streaming = StreamingPossible(cluster, engine_->options().pod_name);
  if (streaming && unlink(flag.c_str()) == 0)
    return absl::OutOfRangeError(absl::StrCat("end of the WAL archive reached before ", name,
                                              "; PostgreSQL continues with streaming replication"));
  // A miss means earlier guesses (another timeline, or a jump) are stale.
  for (const auto& entry : std::filesystem::directory_iterator(spool, ec)) std::filesystem::remove(entry.path(), ec);

  std::vector<std::string> next;
  std::string cursor = name;
  for (int i = 1; i < options_.prefetch; ++i) {
    auto n = NextWalSegment(cursor);
    if (!n) break;
    next.push_back(*n);
    cursor = *n;
  }
  std::vector<absl::Status> prefetched(next.size());
  std::vector<std::thread> workers;
  for (std::size_t i = 0; i < next.size(); ++i)
    workers.emplace_back(
        [&, i] { prefetched[i] = Fetch(stanza, next[i], absl::StrCat(spool, "/", next[i]), request.cancelled); });
  absl::Status requested = fetch_requested();
  for (auto& w : workers) w.join();
  if (!requested.ok()) {
    for (const auto& n : next) unlink(absl::StrCat(spool, "/", n).c_str());
    return requested;
  }
  bool archive_ended = false;
  for (const auto& s : prefetched) archive_ended |= absl::IsNotFound(s);
  if (archive_ended && streaming) {
    UniqueFd created(open(flag.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));  // the flag is the file itself
  }
  return absl::OkStatus();
}

}  // namespace cnpgi_pgbackrest
