// What an Archive use's repositories hold, read the one way the metrics and the Archive status
// share: `pgbackrest info` for the backup sets, `pgbackrest repo-ls` for the archived WAL's size.
#pragma once

#include <cstdint>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

#include "pgbackrest/catalog.h"
#include "pgbackrest/engine.h"

namespace cnpgi_pgbackrest {

struct RepositoryState {
  absl::StatusOr<StanzaCatalog> catalog = absl::UnknownError("pgbackrest info was not run");
  std::map<int, int64_t> wal_bytes;  // by repo key: the repositories whose WAL archive could be listed
};

// Per repository of catalog (by repo key): bytes its backup sets store, and how many sets it holds.
struct BackupUsage {
  int64_t bytes = 0;
  int sets = 0;
};
std::map<int, BackupUsage> BackupUsageByRepository(const StanzaCatalog& catalog);

// The sum of the file sizes in a `pgbackrest repo-ls --recurse --output=json` answer.
int64_t ListedBytes(const nlohmann::json& listing);

// info, then repo-ls --recurse of archive/<stanza> in each repository info could read.
RepositoryState ReadRepositoryState(const Engine& engine, const Stanza& stanza, const std::function<bool()>& cancelled);

}  // namespace cnpgi_pgbackrest
