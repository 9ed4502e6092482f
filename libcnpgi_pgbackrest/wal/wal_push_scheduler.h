// Push-ahead for WAL archiving. PostgreSQL marks a segment .ready and wakes its archiver at the
// same moment; the archiver then starts CNPG's instance manager, which dials the sidecar and makes
// five calls before Archive. Pushing on the .ready mark overlaps that start-up with the push, and a
// backlog goes to pgBackRest's async worker at once instead of one process per segment.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

#include "pgbackrest/async_spool.h"

namespace cnpgi_pgbackrest {

// PGDATA holds standby.signal or recovery.signal: PostgreSQL there is (or starts as) a standby,
// a demoted primary included.
bool RecoverySignalled(const std::string& pgdata);

class WalPushScheduler {
 public:
  // archive-push of one file; async hands it to pgBackRest's worker, which takes every .ready file.
  using PushFn =
      std::function<absl::Status(const std::string& path, bool async, const std::function<bool()>& cancelled)>;

  struct Target {
    std::string identity;  // Archive + stanza: a change forgets pushes in flight
    PushFn push;
    std::optional<AsyncPushSpool> async;  // set when pgBackRest's async mode is configured
    // A segment acknowledged from an .ok file that carries pgBackRest's warning (a drop past
    // archive-push-queue-max, an identical segment already archived); called at acknowledgement.
    std::function<void(const std::string& name, const std::string& warning)> warned;
  };

  struct Options {
    std::string wal_dir;  // $PGDATA/pg_wal, holding archive_status/ (standby.signal beside it)
    int parallel = 1;     // synchronous pushes at once; a longer backlog goes async
    bool ahead = true;    // push on the .ready mark, before PostgreSQL asks
    // Push-ahead pauses when no Archive call came for this long: CNPG may have moved WAL
    // archiving elsewhere, and then nothing should go to this Archive on its own.
    std::chrono::milliseconds ahead_window{std::chrono::minutes(10)};
    std::chrono::milliseconds ahead_backoff{std::chrono::seconds(5)};  // push-ahead pause after a failure
    std::chrono::milliseconds timeout{std::chrono::minutes(5)};        // longest an Archive call waits
    // While PostgreSQL waits on an Archive call, other segments already stored get their .ready
    // mark renamed to .done, so PostgreSQL skips them instead of running CNPG's wal-archive for
    // each (PostgreSQL checks the mark before every archive_command for exactly this reason).
    // Only while PostgreSQL runs (postmaster.pid in PGDATA).
    bool mark_done = true;
    // A call whose segment is stored stays at most this long while pushes of later segments are
    // in flight, marking them as they land: one call can then answer for a whole worker run.
    std::chrono::milliseconds mark_done_linger{std::chrono::seconds(5)};
  };

  explicit WalPushScheduler(Options options);
  ~WalPushScheduler();
  WalPushScheduler(const WalPushScheduler&) = delete;
  WalPushScheduler& operator=(const WalPushScheduler&) = delete;

  // Points pushes at target; every Archive call does, so push-ahead starts with the first one.
  void Arm(Target target);

  // OK once the .ready file at path is stored; pushes it unless a push is under way or done.
  // An error is reported only from a push that ended after the call began.
  absl::Status Archive(const std::string& path, const std::function<bool()>& cancelled);

  // Pushes started so far (push-ahead included), synchronous and async.
  std::uint64_t pushes_started(bool async) const;
  // Segments marked .done here, which PostgreSQL then did not ask for.
  std::uint64_t marked_done() const;

 private:
  struct Entry {
    std::uint64_t id = 0;
    bool done = false;
    bool async = false;  // the worker's exit speaks for the run; only its .ok proves a segment stored
    absl::Status status;
    std::chrono::steady_clock::time_point ended;
  };

  // Starts pushes for pending .ready files unless pgBackRest's worker already has them.
  void Schedule() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Schedule() on behalf of push-ahead, within ahead_window of the last Archive call.
  void ScheduleAhead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartPush(const std::string& name, bool async) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The oldest .ready files with neither a push here nor a pgBackRest .ok, at most limit; those
  // found with an .ok are remembered as stored, so each .ok is looked at once. *all_regular is
  // false when a .ready name is not a regular file (a link): left to PostgreSQL's call, which refuses it.
  std::vector<std::string> Pending(std::size_t limit, bool* all_regular) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether a synchronous push here stored name (its exit status is the proof, not an .ok).
  bool PushedHere(const std::string& name) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether PostgreSQL still marks name .ready.
  bool IsReady(const std::string& name) const;
  // Whether pgBackRest's worker left name's .ok (with the warning in it, if any).
  bool Stored(const std::string& name, std::string* warning = nullptr) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Hands warning to the target once per segment; a synchronous push reported its own already.
  void Report(const std::string& name, const std::string& warning) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Renames the .ready mark of every stored segment except asked to .done; false when marking
  // must stop: PostgreSQL is not running, or a .ready file that is not a segment (timeline
  // history, backup history, partial) waits for it.
  bool MarkStoredDone(const std::string& asked) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The call for name found it stored: marks others, lingering while later pushes are in flight.
  // Unavailable when the target changed meanwhile (name was stored for the old one only).
  absl::Status Acknowledge(const std::string& name, const std::string& identity, const std::function<bool()>& cancelled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool PushesInFlight() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetAcknowledged() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Watches archive_status unless already watched (it may not exist before PostgreSQL does).
  void WatchStatusDir() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Watch();

  const Options options_;
  const std::string status_dir_;
  const std::string pgdata_;  // the parent of wal_dir, where PostgreSQL's recovery signal files live
  mutable absl::Mutex mu_;
  absl::CondVar changed_;
  std::shared_ptr<const Target> target_ ABSL_GUARDED_BY(mu_);
  std::chrono::steady_clock::time_point armed_at_ ABSL_GUARDED_BY(mu_);
  // After a failed push, push-ahead waits until then: a broken repository must not be hammered
  // through the whole backlog; Archive calls still retry at PostgreSQL's pace.
  std::chrono::steady_clock::time_point ahead_paused_until_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> reported_ ABSL_GUARDED_BY(mu_);  // warnings handed on, while .ready
  int sync_running_ ABSL_GUARDED_BY(mu_) = 0;
  bool async_running_ ABSL_GUARDED_BY(mu_) = false;
  int threads_ ABSL_GUARDED_BY(mu_) = 0;  // push threads not yet ended
  std::map<std::uint64_t, std::thread> workers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::uint64_t> finished_ ABSL_GUARDED_BY(mu_);  // ended, to join
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::uint64_t started_sync_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t started_async_ ABSL_GUARDED_BY(mu_) = 0;
  std::uint64_t marked_done_ ABSL_GUARDED_BY(mu_) = 0;
  int inotify_fd_ = -1;
  int wake_fd_ = -1;
  int status_watch_ ABSL_GUARDED_BY(mu_) = -1;
  int spool_watch_ ABSL_GUARDED_BY(mu_) = -1;
  std::string spool_watched_ ABSL_GUARDED_BY(mu_);
  std::thread watcher_;
};

}  // namespace cnpgi_pgbackrest
