// WAL restore through `pgbackrest archive-get`.
#pragma once

#include "absl/strings/string_view.h"

#include "cnpgi_pgbackrest/wal/wal_restore.h"
#include "pgbackrest/engine.h"

namespace cnpgi_pgbackrest {

// Flag file in the spool: the archive ran out during prefetch, so the next miss ends recovery
// from the archive (CNPG then switches the standby to streaming replication).
inline constexpr const char* kEndOfWalStreamFlag = "end-of-wal-stream";

class PgbackrestWalRestore : public WalRestore {
 public:
  struct Options {
    int prefetch = 4;       // segments fetched per call, the requested one included; 1 disables prefetch
    std::string spool_dir;  // where prefetched segments wait for PostgreSQL to ask
  };
  PgbackrestWalRestore(Engine* engine, Options options) : engine_(engine), options_(std::move(options)) {}
  absl::Status Restore(const WalRestoreRequest& request) override;

 private:
  // archive-get of name into dest through a temporary file; NOT_FOUND when the archive lacks it.
  absl::Status Fetch(const Stanza& stanza, const std::string& name, const std::string& dest,
                     const std::function<bool()>& cancelled);

  Engine* engine_;
  Options options_;
};

// True when PostgreSQL can fall back to streaming: an HA replica, or a designated primary
// whose replica source has connection parameters.
bool StreamingPossible(const ClusterView& cluster, absl::string_view pod_name);

// The Archive WAL is read from: the replica source on a designated primary, the recovery
// source while the Cluster has no primary yet (bootstrap), else the Cluster's own Archive.
absl::StatusOr<ArchiveUse> RestoreSource(const ClusterView& cluster, absl::string_view pod_name);

}  // namespace cnpgi_pgbackrest
