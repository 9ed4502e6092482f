// Restore-job hooks through `pgbackrest restore`.
#pragma once

#include "cnpgi_pgbackrest/restore_job/restore_job.h"
#include "pgbackrest/engine.h"

namespace cnpgi_pgbackrest {

class PgbackrestRestoreJob : public RestoreJob {
 public:
  explicit PgbackrestRestoreJob(Engine* engine, std::chrono::milliseconds timeout = std::chrono::hours(24))
      : engine_(engine), timeout_(timeout) {}
  absl::StatusOr<RestoreJobResult> Restore(const RestoreJobRequest& request) override;

 private:
  Engine* engine_;
  std::chrono::milliseconds timeout_;
};

}  // namespace cnpgi_pgbackrest
