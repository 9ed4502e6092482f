// Backup through `pgbackrest backup` on the local instance.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "cnpgi_pgbackrest/backup/backup.h"
#include "pgbackrest/catalog.h"
#include "pgbackrest/engine.h"

namespace cnpgi_pgbackrest {

inline constexpr const char* kBackupNameAnnotation = "cnpg-backup-name";
inline constexpr const char* kBackupUidAnnotation = "cnpg-backup-uid";

class PgbackrestBackup : public Backup {
 public:
  struct Options {
    std::chrono::milliseconds backup_timeout{std::chrono::hours(24)};
    std::chrono::milliseconds wal_wait{std::chrono::minutes(5)};  // for the stop segment to be archived
  };
  PgbackrestBackup(Engine* engine, Options options) : engine_(engine), options_(options) {}
  absl::StatusOr<BackupResult> Run(const BackupRequest& request) override;

  // Unix seconds of the last backup this process failed; 0 when none did.
  int64_t last_failed_unix() const { return last_failed_unix_.load(); }

  struct Outcomes {
    std::uint64_t finished = 0;  // backups run to an answer, successful or not
    int64_t last_failed_unix = 0;
    std::string last_failure;  // why the last failed backup failed
  };
  Outcomes outcomes() const;

 private:
  absl::StatusOr<BackupResult> RunBackup(const BackupRequest& request);
  // OK once the stop segment of backup is in its repository; bounded by options_.wal_wait.
  absl::Status WaitForStopWal(const Stanza& stanza, const StanzaCatalog& catalog, const BackupRecord& backup,
                              const std::function<bool()>& cancelled);

  Engine* engine_;
  Options options_;
  std::atomic<int64_t> last_failed_unix_{0};
  std::atomic<std::uint64_t> finished_{0};
  mutable absl::Mutex failure_mu_;
  std::string last_failure_ ABSL_GUARDED_BY(failure_mu_);
};

}  // namespace cnpgi_pgbackrest
