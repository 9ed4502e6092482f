#include "pgbackrest/engine.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

#include "common/json.h"
#include "pgbackrest/catalog.h"

namespace cnpgi_pgbackrest {

Engine::Engine(EngineOptions options, std::unique_ptr<ArchiveCatalog> catalog, std::unique_ptr<SecretResolver> secrets)
    : options_(std::move(options)),
      catalog_(std::move(catalog)),
      secrets_(std::move(secrets)),
      configs_(options_.work_dir, options_.instance, secrets_.get()),
      runner_(options_.pgbackrest_binary) {}

absl::StatusOr<ClusterView> Engine::Cluster(absl::string_view cluster_json) const {
  {
    absl::MutexLock lock(&cluster_mu_);
    if (last_cluster_ && last_cluster_json_ == cluster_json) return *last_cluster_;
  }
  auto view = ParseCluster(cluster_json, options_.plugin_name);
  if (view.ok()) {
    absl::MutexLock lock(&cluster_mu_);
    last_cluster_json_ = std::string(cluster_json);
    last_cluster_ = *view;
  }
  return view;
}

absl::StatusOr<Stanza> Engine::Open(const ArchiveUse& use) {
  auto archive = LookupArchive(*catalog_, use);
  if (!archive.ok()) return archive.status();
  auto rendered = configs_.Render(*archive);
  if (!rendered.ok()) return rendered.status();
  return Stanza{use, std::move(*archive), std::move(*rendered)};
}

PgbackrestCall Engine::Prepared(const Stanza& stanza, PgbackrestCall call) const {
  if (call.stanza.empty()) call.stanza = stanza.use.stanza;
  bool has_pg_path = false;
  for (const auto& e : call.env) has_pg_path |= absl::StartsWith(e, "PGBACKREST_PG1_PATH=");
  for (const auto& e : PgInstanceEnv(options_.instance))
    if (!has_pg_path || !absl::StartsWith(e, "PGBACKREST_PG1_PATH=")) call.env.push_back(e);
  return call;
}

absl::StatusOr<ProcessResult> Engine::Run(const Stanza& stanza, PgbackrestCall call) const {
  return runner_.Run(stanza.rendered, Prepared(stanza, std::move(call)));
}

absl::Status Engine::Exec(const Stanza& stanza, PgbackrestCall call) const {
  return runner_.Exec(stanza.rendered, Prepared(stanza, std::move(call)));
}

std::string Engine::StanzaKey(const Stanza& stanza) const {
  return absl::StrCat(stanza.use.archive_name, "/", stanza.use.stanza);
}

absl::Status Engine::EnsureStanza(const Stanza& stanza, const std::function<bool()>& cancelled) {
  absl::MutexLock creating(&create_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stanzas_ready_.count(StanzaKey(stanza))) return absl::OkStatus();
  }
  PgbackrestCall call{
      .command = "stanza-create", .options = {"--no-online"}, .timeout = options_.wal_timeout, .cancelled = cancelled};
  auto result = Run(stanza, call);
  if (!result.ok()) return result.status();
  if (auto s = PgbackrestStatus(*result, absl::StrCat("creating stanza '", stanza.use.stanza, "' in Archive '",
                                                      stanza.use.archive_name, "'"));
      !s.ok())
    return s;
  absl::MutexLock lock(&mu_);
  stanzas_ready_.insert(StanzaKey(stanza));
  return absl::OkStatus();
}

void Engine::ForgetStanza(const Stanza& stanza) {
  absl::MutexLock lock(&mu_);
  stanzas_ready_.erase(StanzaKey(stanza));
}

absl::Status Engine::RequireEmptyArchive(const Stanza& stanza, const std::function<bool()>& cancelled) {
  auto info = Info(stanza, cancelled);
  if (!info.ok()) return info.status();
  auto catalog = ParseStanzaInfo(*info);
  if (!catalog.ok()) return catalog.status();
  std::string what = Describe(stanza.use);
  // An archive that cannot be read is not known to be empty.
  if (auto s = RequireReadable(*catalog, what); !s.ok()) return s;
  {
    for (const auto& a : catalog->archives) {
      const std::string& min = a.min;
      const std::string& max = a.max;
      if (!min.empty())
        return absl::FailedPreconditionError(absl::StrCat(
            what, " already contains WAL (", min, " to ", max,
            "); a newly bootstrapped cluster must archive into an empty stanza. Use another stanza, "
            "or set the annotation cnpg.io/skipEmptyWalArchiveCheck=enabled on the Cluster if this is intended"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> Engine::Info(const Stanza& stanza, const std::function<bool()>& cancelled) const {
  PgbackrestCall call{
      .command = "info", .options = {"--output=json"}, .timeout = options_.wal_timeout, .cancelled = cancelled};
  auto result = Run(stanza, call);
  if (!result.ok()) return result.status();
  if (auto s = PgbackrestStatus(*result, "pgbackrest info"); !s.ok()) return s;
  return StanzaOfInfoOutput(std::move(result->out), stanza.use.stanza);
}

}  // namespace cnpgi_pgbackrest
