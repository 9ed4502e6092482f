#include "pgbackrest/repository_state.h"

#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "common/log.h"

namespace cnpgi_pgbackrest {

std::map<int, BackupUsage> BackupUsageByRepository(const StanzaCatalog& catalog) {
  std::map<int, BackupUsage> out;
  for (const auto& b : catalog.backups) {
    out[b.repo_key].bytes += b.repo_delta_bytes;
    out[b.repo_key].sets += 1;
  }
  return out;
}

int64_t ListedBytes(const nlohmann::json& listing) {
  int64_t total = 0;
  if (!listing.is_object()) return 0;
  for (const auto& [name, entry] : listing.items())
    if (StringAt(entry, "type") == "file") total += IntAt(entry, "size");
  return total;
}

RepositoryState ReadRepositoryState(const Engine& engine, const Stanza& stanza,
                                    const std::function<bool()>& cancelled) {
  RepositoryState state;
  auto info = engine.Info(stanza, cancelled);
  state.catalog = info.ok() ? ParseStanzaInfo(*info) : info.status();
  if (!state.catalog.ok()) return state;
  for (const auto& repo : state.catalog->repositories) {
    if (!repo.readable()) continue;
    // One listing of the stanza's WAL archive (every archive id, every timeline): the files' sizes
    // are what the repository stores, compressed and encrypted as they are.
    PgbackrestCall ls{.command = "repo-ls",
                      .options = {"--output=json", "--recurse", absl::StrCat("--repo=", repo.key)},
                      .args = {absl::StrCat("archive/", stanza.use.stanza)},
                      .timeout = engine.options().wal_timeout,
                      .cancelled = cancelled};
    auto r = engine.Run(stanza, ls);
    absl::Status s = r.ok() ? PgbackrestStatus(*r, "listing the WAL archive") : r.status();
    auto listing = s.ok() ? ParseJson(r->out, "pgbackrest repo-ls output") : absl::StatusOr<nlohmann::json>(s);
    if (!listing.ok()) {
      Log("warning", "cannot list the WAL archive",
          {{"archive", stanza.use.archive_name},
           {"repo", absl::StrCat(repo.key)},
           {"error", listing.status().message()}});
      continue;
    }
    state.wal_bytes[repo.key] = ListedBytes(*listing);
  }
  return state;
}

}  // namespace cnpgi_pgbackrest
