#include "wal/wal_push_scheduler.h"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <poll.h>
#include <thread>
#include <unistd.h>

#include <sys/eventfd.h>
#include <sys/inotify.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "common/files.h"
#include "common/log.h"
#include "common/wal_name.h"

namespace cnpgi_pgbackrest {
namespace {

constexpr absl::string_view kReady = ".ready";
// Waiters re-check this often even without a wake-up: a pgBackRest worker we did not start
// signals nothing when it exits.
constexpr absl::Duration kRecheck = absl::Milliseconds(50);

// What was learned for a call belongs to the target it began with: PostgreSQL must ask again.
absl::Status TargetChanged(const std::string& name) {
  return absl::UnavailableError(absl::StrCat("the Archive changed while ", name, " was being archived; retry"));
}

}  // namespace

bool RecoverySignalled(const std::string& pgdata) {
  for (const char* signal : {"/standby.signal", "/recovery.signal"})
    if (access(absl::StrCat(pgdata, signal).c_str(), F_OK) == 0) return true;
  return false;
}

WalPushScheduler::WalPushScheduler(Options options)
    : options_(std::move(options)),
      status_dir_(absl::StrCat(options_.wal_dir, "/archive_status")),
      pgdata_(options_.wal_dir.substr(0, options_.wal_dir.rfind('/'))) {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  watcher_ = std::thread([this] { Watch(); });
}

WalPushScheduler::~WalPushScheduler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    changed_.SignalAll();
  }
  std::uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
  }
  watcher_.join();
  {
    // Pushes in flight see stopping_ as cancellation and end their pgbackrest child.
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* n) { return *n == 0; }, &threads_));
  }
  for (auto& [id, worker] : workers_) worker.join();
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

std::uint64_t WalPushScheduler::pushes_started(bool async) const {
  absl::MutexLock lock(&mu_);
  return async ? started_async_ : started_sync_;
}

std::uint64_t WalPushScheduler::marked_done() const {
  absl::MutexLock lock(&mu_);
  return marked_done_;
}

void WalPushScheduler::Arm(Target target) {
  absl::MutexLock lock(&mu_);
  bool changed = !target_ || target_->identity != target.identity;
  if (changed) {
    entries_.clear();  // pushes in flight for the old target finish unrecorded
    reported_.clear();
  }
  target_ = std::make_shared<const Target>(std::move(target));
  armed_at_ = std::chrono::steady_clock::now();
  WatchStatusDir();
  std::string spool = target_->async ? target_->async->out_dir : "";
  // Re-watched on a change too: a new configuration clears the spool directory (ConfigFiles).
  if (inotify_fd_ >= 0 && (changed || spool != spool_watched_)) {
    if (spool_watch_ >= 0) inotify_rm_watch(inotify_fd_, spool_watch_);
    spool_watch_ = -1;
    spool_watched_ = spool;
    if (!spool.empty()) {
      // pgBackRest creates it on its first async run; watching needs it now.
      std::error_code ec;
      std::filesystem::create_directories(spool, ec);
      spool_watch_ = inotify_add_watch(inotify_fd_, spool.c_str(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
    }
  }
  if (changed) ScheduleAhead();
}

void WalPushScheduler::WatchStatusDir() {
  if (inotify_fd_ >= 0 && status_watch_ < 0)
    status_watch_ = inotify_add_watch(inotify_fd_, status_dir_.c_str(), IN_CREATE | IN_MOVED_TO);
}

void WalPushScheduler::ScheduleAhead() {
  auto now = std::chrono::steady_clock::now();
  if (!options_.ahead || now - armed_at_ >= options_.ahead_window || now < ahead_paused_until_) return;
  // A standby (a demoted primary too) archives nothing by itself: what its pg_wal still marks .ready
  // may have diverged from the new primary's history. Only PostgreSQL's own calls push there.
  if (RecoverySignalled(pgdata_)) return;
  Schedule();
}

bool WalPushScheduler::Stored(const std::string& name, std::string* warning) const {
  return target_ && target_->async && AsyncPushStored(*target_->async, name, warning);
}

bool WalPushScheduler::PushedHere(const std::string& name) const {
  auto it = entries_.find(name);
  return it != entries_.end() && it->second.done && !it->second.async && it->second.status.ok();
}

bool WalPushScheduler::IsReady(const std::string& name) const {
  return access(absl::StrCat(status_dir_, "/", name, kReady).c_str(), F_OK) == 0;
}

void WalPushScheduler::Report(const std::string& name, const std::string& warning) {
  if (warning.empty() || !target_ || !target_->warned) return;
  // A synchronous push of it answered for itself (and its warning): a worker run that took the
  // still-.ready segment afterwards says nothing new about what PostgreSQL was told.
  if (PushedHere(name)) return;
  // PostgreSQL may ask again for a segment already answered (its call was cut): one report.
  if (reported_.insert(name).second) target_->warned(name, warning);
}

std::vector<std::string> WalPushScheduler::Pending(std::size_t limit, bool* all_regular) {
  *all_regular = true;
  std::vector<std::string> ready;
  for (const auto& entry : ListDirectory(status_dir_)) {
    absl::string_view file = entry;
    if (!absl::ConsumeSuffix(&file, kReady)) continue;
    std::string name(file);
    if (!ClassifyWalName(name) || entries_.count(name)) continue;
    if (!RequireRegularWalFile(absl::StrCat(options_.wal_dir, "/", name)).ok()) {
      *all_regular = false;
      continue;
    }
    ready.push_back(std::move(name));
  }
  std::sort(ready.begin(), ready.end());
  std::vector<std::string> out;
  for (auto& name : ready) {
    if (out.size() >= limit) break;
    if (!Stored(name))
      out.push_back(std::move(name));
    else  // the worker's: its .ok (and any warning in it) speaks for the segment
      entries_[name] = Entry{.id = next_id_++, .done = true, .async = true, .ended = std::chrono::steady_clock::now()};
  }
  return out;
}

void WalPushScheduler::Schedule() {
  if (stopping_ || !target_) return;
  // A running worker took every .ready file it saw; its .ok files answer for them.
  if (target_->async && (async_running_ || AsyncPushWorkerRunning(*target_->async))) return;
  int free = std::max(options_.parallel - sync_running_, 0);
  bool all_regular = true;
  std::vector<std::string> pending = Pending(static_cast<std::size_t>(std::max(free, 1)) + 1, &all_regular);
  if (pending.empty()) return;
  // More waiting than free slots: one pgBackRest worker pushes the lot with process-max
  // processes, paying process start-up and archive.info once instead of per segment. Not while
  // synchronous pushes run: the worker takes every .ready file, and two writers of one segment
  // share pgBackRest's temporary file name in the repository.
  // Nor while a .ready name is a link: the worker would store what it points to.
  if (target_->async && all_regular && pending.size() >= 2 && static_cast<int>(pending.size()) > free) {
    if (sync_running_ == 0) StartPush(pending.front(), true);
    return;
  }
  for (int i = 0; i < free && i < static_cast<int>(pending.size()); ++i) StartPush(pending[i], false);
}

void WalPushScheduler::ForgetAcknowledged() {
  // A segment no longer .ready will not be asked for with its mark again: its report is done.
  if (reported_.size() >= 64)
    for (auto it = reported_.begin(); it != reported_.end();) it = !IsReady(*it) ? reported_.erase(it) : std::next(it);
  if (entries_.size() < static_cast<std::size_t>(options_.parallel) + 16) return;
  // Ended pushes whose .ready PostgreSQL has renamed (or never asked about) need no memory.
  for (auto it = entries_.begin(); it != entries_.end();)
    it = it->second.done && !IsReady(it->first) ? entries_.erase(it) : std::next(it);
}

void WalPushScheduler::StartPush(const std::string& name, bool async) {
  ForgetAcknowledged();
  // Ended threads have released mu_ (we hold it), so these joins return at once.
  for (std::uint64_t done : finished_) {
    workers_[done].join();
    workers_.erase(done);
  }
  finished_.clear();
  std::uint64_t id = next_id_++;
  entries_[name] = Entry{.id = id, .async = async};
  if (async)
    async_running_ = true;
  else
    ++sync_running_;
  ++threads_;
  ++(async ? started_async_ : started_sync_);
  std::shared_ptr<const Target> target = target_;
  std::string path = absl::StrCat(options_.wal_dir, "/", name);
  workers_[id] = std::thread([this, target, name, path, id, async] {
    absl::Status status = target->push(path, async, [this] {
      absl::MutexLock lock(&mu_);
      return stopping_;
    });
    absl::MutexLock lock(&mu_);
    if (async)
      async_running_ = false;
    else
      --sync_running_;
    auto it = entries_.find(name);
    if (it != entries_.end() && it->second.id == id) {
      it->second.done = true;
      it->second.status = status;
      it->second.ended = std::chrono::steady_clock::now();
    }
    if (!status.ok()) {
      ahead_paused_until_ = std::chrono::steady_clock::now() + options_.ahead_backoff;
      Log("warning", "WAL push failed; PostgreSQL's archiver will retry",
          {{"wal", name}, {"mode", async ? "async" : "sync"}, {"error", status.message()}});
    }
    ScheduleAhead();
    --threads_;
    finished_.push_back(id);
    changed_.SignalAll();
  });
}

absl::Status WalPushScheduler::Archive(const std::string& path, const std::function<bool()>& cancelled) {
  const auto begun = std::chrono::steady_clock::now();
  std::string dir = path.substr(0, path.rfind('/'));
  std::string name = path.substr(path.rfind('/') + 1);
  std::shared_ptr<const Target> target;
  {
    absl::MutexLock lock(&mu_);
    target = target_;
  }
  if (!target) return absl::InternalError("WAL archiving was asked before its Archive was known");
  // Without a .ready mark (a re-archive after .done, or a file outside pg_wal's status
  // tracking) neither push-ahead nor pgBackRest's worker will take it: push it here.
  if (dir != options_.wal_dir || !IsReady(name)) return target->push(path, false, cancelled);

  absl::MutexLock lock(&mu_);
  while (true) {
    if (stopping_) return absl::UnavailableError("the sidecar is stopping");
    // What was learned below belongs to the target the call began with.
    if (target_->identity != target->identity) return TargetChanged(name);
    auto it = entries_.find(name);
    if (std::string warning; Stored(name, &warning)) {
      Report(name, warning);
      if (it != entries_.end()) entries_.erase(it);
      return Acknowledge(name, target->identity, cancelled);
    }
    if (it != entries_.end() && it->second.done) {
      // Stored entries stay until PostgreSQL renames the .ready, so nothing pushes them again.
      if (it->second.status.ok()) return Acknowledge(name, target->identity, cancelled);
      absl::Status status = it->second.status;
      bool fresh = it->second.ended >= begun;
      entries_.erase(it);
      if (fresh) return status;
      // It failed before this call began (pushed ahead): try again rather than report old news.
    }
    Schedule();
    if (cancelled && cancelled()) return absl::CancelledError(absl::StrCat("archiving ", name, " was cancelled"));
    if (std::chrono::steady_clock::now() - begun > options_.timeout)
      return absl::DeadlineExceededError(
          absl::StrCat("WAL file ", name, " was not stored within ", options_.timeout.count() / 1000, "s"));
    changed_.WaitWithTimeout(&mu_, kRecheck);
  }
}

bool WalPushScheduler::MarkStoredDone(const std::string& asked) {
  // With PostgreSQL stopped the caller is CNPG's instance manager archiving what a former primary
  // left .ready (before pg_rewind); it renames each mark itself after its call and fails that pass
  // when one is already gone. A crashed PostgreSQL leaves the file: that pass is then retried.
  if (access(absl::StrCat(pgdata_, "/postmaster.pid").c_str(), F_OK) != 0) return false;
  bool only_segments = true;
  int marked = 0;
  for (const auto& entry : ListDirectory(status_dir_)) {
    absl::string_view file = entry;
    if (!absl::ConsumeSuffix(&file, kReady)) continue;
    std::string name(file);
    auto kind = ClassifyWalName(name);
    if (!kind) continue;
    if (*kind != WalFileKind::kSegment) {
      only_segments = false;
      continue;
    }
    // PostgreSQL's archiver is inside archive_command for asked: that mark is its own to rename.
    if (name == asked) continue;
    // The warning is read with the proof: a worker starting next removes .ok files without .ready.
    std::string warning;
    if (!PushedHere(name) && !Stored(name, &warning)) continue;
    std::string from = absl::StrCat(status_dir_, "/", name, kReady);
    std::string to = absl::StrCat(status_dir_, "/", name, ".done");
    if (rename(from.c_str(), to.c_str()) == 0) {
      ++marked;
      Report(name, warning);
    }
  }
  if (marked > 0) {
    // As PostgreSQL does: the renames survive a crash (were one lost, the segment would only be
    // archived again, which pgBackRest accepts for identical content).
    SyncDirectory(status_dir_);
    marked_done_ += marked;
  }
  return only_segments;
}

bool WalPushScheduler::PushesInFlight() const {
  return sync_running_ > 0 || async_running_ || (target_ && target_->async && AsyncPushWorkerRunning(*target_->async));
}

absl::Status WalPushScheduler::Acknowledge(const std::string& name, const std::string& identity,
                                           const std::function<bool()>& cancelled) {
  if (!options_.mark_done) return absl::OkStatus();
  const auto until = std::chrono::steady_clock::now() + options_.mark_done_linger;
  // Lingering costs PostgreSQL nothing: the segments it would ask for next are the ones in flight,
  // and each is marked the moment it lands. A history file waiting ends it: that one goes first.
  while (true) {
    if (target_->identity != identity) return TargetChanged(name);
    if (!MarkStoredDone(name) || stopping_ || !PushesInFlight() || std::chrono::steady_clock::now() >= until ||
        (cancelled && cancelled()))
      return absl::OkStatus();
    changed_.WaitWithTimeout(&mu_, kRecheck);
  }
}

void WalPushScheduler::Watch() {
  alignas(inotify_event) char buf[8192];
  while (true) {
    // The timeout catches what sends no event: a pgBackRest worker ending, the backoff expiring,
    // a lost event queue, archive_status recreated.
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    int n = poll(fds, 2, 1000);
    if (n < 0 && errno != EINTR) std::this_thread::sleep_for(std::chrono::seconds(1));
    bool lost_status_watch = false;
    ssize_t got;
    while (n > 0 && (got = read(inotify_fd_, buf, sizeof buf)) > 0) {
      for (char* p = buf; p < buf + got;) {
        auto* e = reinterpret_cast<inotify_event*>(p);
        if (e->mask & IN_IGNORED) {
          absl::MutexLock lock(&mu_);
          if (e->wd == status_watch_) lost_status_watch = true;
          if (e->wd == spool_watch_) spool_watch_ = -1, spool_watched_.clear();
        }
        p += sizeof(inotify_event) + e->len;
      }
    }
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    if (lost_status_watch) status_watch_ = -1;
    if (target_) WatchStatusDir();
    ScheduleAhead();
    changed_.SignalAll();
  }
}

}  // namespace cnpgi_pgbackrest
