// WAL archive through `pgbackrest archive-push`.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

#include "cnpgi_pgbackrest/wal/wal_archive.h"
#include "pgbackrest/engine.h"
#include "wal/wal_push_scheduler.h"

namespace cnpgi_pgbackrest {

// The marker CNPG leaves in PGDATA until the first WAL of a new cluster is archived.
inline constexpr absl::string_view kCheckEmptyWalArchiveMarker = ".check-empty-wal-archive";

// A lone segment is pushed synchronously the moment PostgreSQL marks it .ready; a backlog goes to
// pgBackRest's async mode (archive-async, process-max: see ConfigFiles). bench/README.md shows why.
// Where the Cluster JSON of the last Archive call is kept: push-ahead resumes from it after a
// restart, and an operator's shell finds the Archive and stanza in use there.
std::string LastArchiveCallFile(const std::string& work_dir);

class PgbackrestWalArchive : public WalArchive {
 public:
  struct Options {
    int parallel = 1;       // synchronous pushes at once
    bool ahead = true;      // push on the .ready mark instead of waiting for the Archive call
    bool mark_done = true;  // mark other stored segments .done during a call (WalPushScheduler)
  };
  PgbackrestWalArchive(Engine* engine, Options options);
  absl::Status Archive(const WalArchiveRequest& request) override;

  // After a sidecar restart: push-ahead for the Cluster of the last Archive call (kept in the work
  // dir), so a backlog moves while PostgreSQL's archiver still waits out its retry delay. Does
  // nothing before a first Archive call, or while the empty-archive check is pending.
  void Resume();

  struct Stats {
    std::uint64_t archived = 0;     // Archive calls answered OK
    std::uint64_t failed = 0;       // Archive calls answered with an error
    std::uint64_t pushes_sync = 0;  // pgBackRest pushes started, push-ahead included
    std::uint64_t pushes_async = 0;
    std::uint64_t marked_done = 0;   // stored segments marked .done, never asked for by PostgreSQL
    std::uint64_t dropped = 0;       // segments pgBackRest dropped past archive-push-queue-max
    int64_t last_archived_unix = 0;  // 0: none since the sidecar started
    int64_t last_failed_unix = 0;
    std::string last_archived_wal;  // file names of the last Archive calls answered OK and with an error
    std::string last_failed_wal;
    std::string last_failure;  // the error of last_failed_wal
    bool failing = false;      // the last Archive call was answered with an error
  };
  Stats stats() const;

  // The Cluster JSON of the last Archive call (empty before the first): who the primary is, and
  // which Archive and stanza it archives to, for the Archive status.
  std::string last_cluster_definition() const;

 private:
  // Whether the empty-archive check applies: the request decides, else annotation + marker (CNPG ≤ 1.30).
  bool MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const;
  // archive-push of one file, creating the stanza on the first push.
  absl::Status Push(const Stanza& stanza, const std::string& path, bool async, const std::function<bool()>& cancelled);
  WalPushScheduler::Target TargetFor(const Stanza& stanza);
  // Arms push-ahead for stanza, remembering cluster_definition when the target is new.
  void Arm(const Stanza& stanza, const std::string& cluster_definition);

  // Logs a warning pgBackRest gave for one segment, counting drops (archive-push-queue-max).
  void NoteWarning(const std::string& name, const std::string& warning);

  // Archive() without the counting.
  absl::Status ArchiveOnce(const WalArchiveRequest& request);

  Engine* engine_;
  WalPushScheduler scheduler_;
  std::atomic<std::uint64_t> archived_{0}, failed_{0}, dropped_{0};
  std::atomic<int64_t> last_archived_unix_{0}, last_failed_unix_{0};
  // Recorded on every Archive call, read by the status publisher: in memory only, never waited on.
  mutable absl::Mutex facts_mu_;
  std::string last_archived_wal_ ABSL_GUARDED_BY(facts_mu_);
  std::string last_failed_wal_ ABSL_GUARDED_BY(facts_mu_);
  std::string last_failure_ ABSL_GUARDED_BY(facts_mu_);
  std::string last_cluster_definition_ ABSL_GUARDED_BY(facts_mu_);
  bool failing_ ABSL_GUARDED_BY(facts_mu_) = false;
  absl::Mutex armed_mu_;
  // One empty-archive check and first push at a time: concurrent pushes of one segment race on
  // pgBackRest's temporary file name (FileMoveError), and a later call must see the first one's WAL.
  absl::Mutex first_push_mu_;
  std::string armed_identity_ ABSL_GUARDED_BY(armed_mu_);
};

}  // namespace cnpgi_pgbackrest
