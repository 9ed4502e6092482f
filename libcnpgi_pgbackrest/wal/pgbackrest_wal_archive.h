// WAL archive through `pgbackrest archive-push`.
#pragma once

#include "absl/strings/string_view.h"
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "pgbackrest/engine.h"
#include "wal/wal_archive.h"

namespace cnpgi_pgbackrest {

// The marker CNPG leaves in PGDATA until the first WAL of a new cluster is archived.
inline constexpr absl::string_view kCheckEmptyWalArchiveMarker = ".check-empty-wal-archive";

class PgbackrestWalArchive : public WalArchive {
 public:
  struct Options {
    // Segments pushed in parallel per call when PostgreSQL has a backlog (the requested one
    // included); 1 pushes only what was asked.
    int parallel = 1;
    // Where markers of segments already pushed ahead live (only written after pgBackRest stored them).
    std::string spool_dir;
  };
  PgbackrestWalArchive(Engine* engine, Options options) : engine_(engine), options_(std::move(options)) {}
  // Waits for pushes still running in the background.
  ~PgbackrestWalArchive() override;
  absl::Status Archive(const WalArchiveRequest& request) override;

 private:
  // Whether the empty-archive check applies: the request decides, else annotation + marker (CNPG ≤ 1.30).
  bool MustCheckEmpty(const WalArchiveRequest& request, const ClusterView& cluster) const;
  // archive-push of one file, creating the stanza on the first push.
  absl::Status Push(Stanza& stanza, const std::string& path, const std::function<bool()>& cancelled);
  // The oldest .ready segment nobody pushes or has pushed yet; claims it. Empty when none.
  std::string ClaimNext(const Stanza& stanza, const std::string& wal_dir) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps pushing ready segments in the background until none is left.
  void PushAhead(Stanza stanza, std::string wal_dir);
  std::string Key(const Stanza& stanza, const std::string& name) const;
  std::string MarkerFile(const Stanza& stanza, const std::string& name) const;

  Engine* engine_;
  Options options_;
  absl::Mutex mu_;
  // Segments pushed ahead: no value while the push runs, then its outcome until PostgreSQL asks.
  std::map<std::string, std::optional<absl::Status>> ahead_ ABSL_GUARDED_BY(mu_);
  int workers_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cnpgi_pgbackrest
