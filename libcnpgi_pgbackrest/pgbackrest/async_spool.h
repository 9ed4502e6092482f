// What pgBackRest's async archive-push leaves on disk: per-segment status files and its lock.
#pragma once

#include <string>

namespace cnpgi_pgbackrest {

struct AsyncPushSpool {
  std::string out_dir;    // <spool-path>/archive/<stanza>/out: <segment>.ok, <segment>.error, global.error
  std::string lock_file;  // <lock-path>/<stanza>-archive.lock, flock()ed while an archive-push worker runs
};

// The spool of stanza for an Archive whose configuration lives in archive_dir (see RenderConfigText).
AsyncPushSpool AsyncPushSpoolFor(const std::string& archive_dir, const std::string& stanza);

// True when pgBackRest's worker reported segment stored: `<segment>.ok`, possibly holding a warning.
bool AsyncPushStored(const AsyncPushSpool& spool, const std::string& segment, std::string* warning = nullptr);

// True while any process holds the archive lock; read from /proc/locks so the lock is never taken.
bool AsyncPushWorkerRunning(const AsyncPushSpool& spool);

}  // namespace cnpgi_pgbackrest
