#include "pgbackrest/engine.h"

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

#include "common/json.h"
#include "common/log.h"
#include "pgbackrest/catalog.h"
#include "stanza/stanza_state.h"

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
  std::string command = call.command;
  auto result = runner_.Run(stanza.rendered, Prepared(stanza, std::move(call)));
  // log.levelStderr info and more verbose: pgBackRest's stderr in the sidecar's log, line by line.
  if (result.ok() && LogsPgbackrestStderr(stanza.archive))
    for (absl::string_view line : absl::StrSplit(result->err, '\n', absl::SkipWhitespace()))
      Log("info", "pgBackRest",
          {{"command", command}, {"stanza", stanza.use.stanza}, {"archive", stanza.use.archive_name}, {"line", line}});
  return result;
}

absl::Status Engine::Exec(const Stanza& stanza, PgbackrestCall call) const {
  return runner_.Exec(stanza.rendered, Prepared(stanza, std::move(call)));
}

std::string Engine::StanzaKey(const Stanza& stanza) const {
  // The whole Archive spec: a repository added to it is checked and created before it is used.
  return absl::StrCat(stanza.use.archive_name, "/", stanza.use.stanza, "\n", stanza.archive.definition.dump());
}

absl::StatusOr<Engine::StanzaCheck> Engine::CheckStanzaOwner(const Stanza& stanza,
                                                             const std::function<bool()>& cancelled) const {
  StanzaCheck check;
  auto local = ReadLocalDatabase(options_.instance.pgdata);
  if (!local.ok()) {
    // pgBackRest compares pg_control with the stanza itself on every push and backup.
    Log("warning", "cannot read the data directory's identity; leaving the stanza check to pgBackRest",
        {{"error", local.status().message()}});
    check.create = true;
    return check;
  }
  for (std::size_t i = 1; i <= stanza.archive.repositories.size(); ++i) {
    std::string what = absl::StrCat(Describe(stanza.use), " in repo", i);
    PgbackrestCall get{.command = "repo-get",
                       .options = {absl::StrCat("--repo=", i), "--ignore-missing"},
                       .args = {absl::StrCat("archive/", stanza.use.stanza, "/archive.info")},
                       .timeout = options_.wal_timeout,
                       .cancelled = cancelled};
    // On the WAL path: as bounded as archive-push itself when storage is unreachable.
    if (options_.instance.wal_io_timeout_seconds > 0)
      get.options.push_back(absl::StrCat("--io-timeout=", options_.instance.wal_io_timeout_seconds));
    auto result = Run(stanza, get);
    if (!result.ok()) return result.status();
    if (result->exit_code == 1 && result->out.empty()) {  // --ignore-missing: no stanza there yet
      check.create = true;
      continue;
    }
    if (!result->ok()) {
      // Unreachable now: pgBackRest's own checks still guard the push, and the next one checks again.
      check.complete = false;
      Log("warning", "cannot read the stanza's archive.info",
          {{"stanza", what}, {"error", PgbackrestStatus(*result, "repo-get").message()}});
      continue;
    }
    auto info = ParseArchiveInfo(result->out);
    if (!info.ok()) return absl::FailedPreconditionError(absl::StrCat(what, ": ", info.status().message()));
    StanzaDecision decision = DecideStanza(*info, *local, stanza.cluster_major_version, what);
    if (decision.action == StanzaAction::kRefuse) return absl::FailedPreconditionError(decision.reason);
    if (decision.action == StanzaAction::kUpgrade) {
      Log("info", "PostgreSQL major upgrade: upgrading the stanza", {{"stanza", what}, {"why", decision.reason}});
      check.upgrade = true;
    }
  }
  return check;
}

absl::Status Engine::EnsureStanza(const Stanza& stanza, const std::function<bool()>& cancelled) {
  std::string key = StanzaKey(stanza);
  {
    absl::MutexLock lock(&mu_);
    if (stanzas_ready_.count(key)) return absl::OkStatus();
  }
  // stanza-create and stanza-upgrade take pgBackRest's archive lock: one at a time.
  absl::MutexLock creating(&create_mu_);
  {
    absl::MutexLock lock(&mu_);
    if (stanzas_ready_.count(key)) return absl::OkStatus();
  }
  auto check = CheckStanzaOwner(stanza, cancelled);
  if (!check.ok()) return check.status();
  // Upgrade first: stanza-create refuses a repository whose stanza does not match pg_control.
  for (bool upgrading : {true, false}) {
    if (!(upgrading ? check->upgrade : check->create)) continue;
    PgbackrestCall call{.command = upgrading ? "stanza-upgrade" : "stanza-create",
                        .options = {"--no-online"},
                        .timeout = options_.wal_timeout,
                        .cancelled = cancelled};
    auto result = Run(stanza, call);
    if (!result.ok()) return result.status();
    if (auto s =
            PgbackrestStatus(*result, absl::StrCat(upgrading ? "upgrading stanza '" : "creating stanza '",
                                                   stanza.use.stanza, "' in Archive '", stanza.use.archive_name, "'"));
        !s.ok())
      return s;
    if (upgrading)
      Log("info", "stanza upgraded", {{"stanza", stanza.use.stanza}, {"archive", stanza.use.archive_name}});
  }
  if (!check->complete) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  stanzas_ready_.insert(key);
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
  for (const auto& a : catalog->archives)
    if (!a.min.empty())
      return absl::FailedPreconditionError(absl::StrCat(
          what, " already contains WAL (", a.min, " to ", a.max,
          "); a newly bootstrapped cluster must archive into an empty stanza. Use another stanza, "
          "or set the annotation cnpg.io/skipEmptyWalArchiveCheck=enabled on the Cluster if this is intended"));
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
