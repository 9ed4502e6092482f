// What `pgbackrest info --output=json` says about one stanza, as typed records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

struct BackupRecord {
  std::string label;  // e.g. 20261121-071500F, 20261121-071500F_20261121-072000I
  std::string type;   // full | diff | incr
  std::string prior;
  int64_t start_time = 0;  // Unix seconds
  int64_t stop_time = 0;
  std::string wal_start, wal_stop;
  std::string lsn_start, lsn_stop;
  std::map<std::string, std::string> annotations;
  int database_id = 0;
  int repo_key = 1;
  bool error = false;
  // What the set takes in its repository: info.repository.delta (files only this set stores;
  // repository.size also counts the files it references in prior sets).
  int64_t repo_delta_bytes = 0;
};

struct ArchiveRange {
  std::string id;  // "<pg version>-<database id>", e.g. 15-1
  int database_id = 0;
  int repo_key = 1;
  std::string min, max;
};

// One repository of the stanza as pgBackRest reported it (info's "repo" array).
struct RepositoryRecord {
  int key = 1;  // repoN
  int status_code = 0;
  std::string status_message;
  // pgBackRest could read it: ok (0), missing stanza path (1) or no valid backups (2).
  bool readable() const { return status_code == 0 || status_code == 1 || status_code == 2; }
};

struct StanzaCatalog {
  std::string name;
  int status_code = 0;  // 0 ok, 1 missing stanza path, 2 no valid backups, ...
  std::string status_message;
  std::string cipher;
  std::vector<BackupRecord> backups;  // oldest first, as pgBackRest lists them
  std::vector<ArchiveRange> archives;
  std::vector<RepositoryRecord> repositories;
  std::string repo_errors;  // "repoN: message" of repositories pgBackRest could not read
};

// OK when pgBackRest could read the stanza (codes 0 ok, 1 missing, 2 no backups); otherwise
// FAILED_PRECONDITION quoting the repositories' own errors (credentials, cipher key, network).
absl::Status RequireReadable(const StanzaCatalog& catalog, const std::string& what);

// The element for stanza of `pgbackrest info --output=json`'s array; INTERNAL when the output is not
// such an array, NOT_FOUND when the stanza is missing from it.
absl::StatusOr<nlohmann::json> StanzaOfInfoOutput(std::string output, const std::string& stanza);

// Parses one element of the info array.
absl::StatusOr<StanzaCatalog> ParseStanzaInfo(const nlohmann::json& stanza);

// "X/Y" (hex) as a 64-bit position; nothing for a malformed LSN.
std::optional<uint64_t> ParseLsn(const std::string& lsn);

// An archive id as pgBackRest writes it (<major version>-<history id>): a directory name in the repository.
bool IsArchiveId(absl::string_view id);

}  // namespace cnpgi_pgbackrest
