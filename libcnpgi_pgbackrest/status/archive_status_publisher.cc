#include "status/archive_status_publisher.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "common/files.h"
#include "common/json.h"
#include "common/log.h"
#include "pgbackrest/repository_state.h"
#include "status/stanza_status.h"
#include "wal/wal_push_scheduler.h"

namespace cnpgi_pgbackrest {

using json = nlohmann::json;

bool PublishesStatus(const ClusterView& cluster, const std::string& pod, const std::string& pgdata) {
  return !cluster.current_primary.empty() && cluster.current_primary == pod && !RecoverySignalled(pgdata);
}

std::string ArchivePath(const std::string& namespace_, const std::string& name) {
  return absl::StrCat("/apis/pgbackrest.cnpg.opera.com/v1/namespaces/", namespace_, "/archives/", name);
}

ArchiveStatusPublisher::ArchiveStatusPublisher(Engine* engine, const PgbackrestWalArchive* wal,
                                               const PgbackrestBackup* backup, std::unique_ptr<KubernetesClient> client,
                                               Options options)
    : engine_(engine), wal_(wal), backup_(backup), client_(std::move(client)), options_(options), thread_([this] {
        Run();
      }) {}

ArchiveStatusPublisher::~ArchiveStatusPublisher() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

void ArchiveStatusPublisher::Run() {
  std::uint64_t backups = backup_->outcomes().finished;
  bool failing = wal_->stats().failing;
  auto last_round = std::chrono::steady_clock::now() - options_.interval;  // the first round at once
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::FromChrono(options_.poll))) return;
    }
    bool due = std::chrono::steady_clock::now() - last_round >= options_.interval;
    std::uint64_t backups_now = backup_->outcomes().finished;
    bool failing_now = wal_->stats().failing;
    due = due || backups_now != backups || failing_now != failing;
    backups = backups_now;
    failing = failing_now;
    if (!due) continue;
    Round();
    last_round = std::chrono::steady_clock::now();
  }
}

void ArchiveStatusPublisher::Round() {
  const EngineOptions& eo = engine_->options();
  // The Cluster of the last Archive call; after a restart, the one kept in the work dir.
  std::string definition = wal_->last_cluster_definition();
  if (definition.empty()) definition = ReadFileText(LastArchiveCallFile(eo.work_dir));
  if (definition.empty()) return;
  auto cluster = engine_->Cluster(definition);
  if (!cluster.ok() || !cluster->archive) return;
  if (!PublishesStatus(*cluster, eo.pod_name, eo.instance.pgdata)) {
    if (!standby_logged_)
      Log("info", "Archive status: not the primary, leaving the status to its sidecar",
          {{"pod", eo.pod_name}, {"primary", cluster->current_primary}});
    standby_logged_ = true;
    primary_logged_ = false;
    return;
  }
  standby_logged_ = false;
  const ArchiveUse& use = *cluster->archive;
  std::string path = ArchivePath(use.namespace_, use.archive_name);
  std::string target = absl::StrCat(use.namespace_, "/", use.archive_name, "/", use.stanza);
  if (target != target_) {
    // Take over what cannot be recomputed (failures from before a restart, transition times).
    auto object = client_->Get(path);
    if (!object.ok()) return Report(std::string(object.status().message()));
    json entry = ObjectAt(ObjectAt(ObjectAt(*object, "status"), "stanzaRecoveryWindow"), use.stanza);
    previous_ = written_ = entry.is_object() ? entry : json::object();
    target_ = target;
  }
  if (!primary_logged_)
    Log("info", "Archive status: publishing",
        {{"archive", use.archive_name}, {"namespace", use.namespace_}, {"stanza", use.stanza}});
  primary_logged_ = true;

  auto cancelled = [this] {
    absl::MutexLock lock(&mu_);
    return stopping_;
  };
  StanzaFacts facts;
  auto stanza = engine_->Open(use);
  RepositoryState state;
  if (stanza.ok()) {
    state = ReadRepositoryState(*engine_, *stanza, cancelled);
    facts.repositories = static_cast<int>(stanza->archive.repositories.size());
  } else {
    state.catalog = stanza.status();
  }
  if (cancelled()) return;
  PgbackrestWalArchive::Stats wal = wal_->stats();
  PgbackrestBackup::Outcomes backups = backup_->outcomes();
  facts.cluster = cluster->name;
  facts.last_archived_wal = wal.last_archived_wal;
  facts.last_archived_unix = wal.last_archived_unix;
  facts.last_failed_wal = wal.last_failed_wal;
  facts.last_failed_wal_unix = wal.last_failed_unix;
  facts.last_wal_failure = wal.last_failure;
  facts.wal_failing = wal.failing;
  facts.last_failed_backup_unix = backups.last_failed_unix;
  facts.last_backup_failure = backups.last_failure;
  json entry = BuildStanzaStatus(facts, state, previous_, absl::ToUnixSeconds(absl::Now()));
  previous_ = entry;
  if (entry == written_) return;
  // A merge patch merges objects: a field the entry no longer has is deleted with null.
  json patch_entry = entry;
  for (const auto& [field, value] : written_.items())
    if (!entry.contains(field)) patch_entry[field] = nullptr;
  json patch = {{"status", {{"stanzaRecoveryWindow", {{use.stanza, patch_entry}}}}}};
  auto patched = client_->MergePatch(path + "/status", patch);
  if (!patched.ok()) return Report(std::string(patched.status().message()));
  written_ = entry;
  Report("");
}

void ArchiveStatusPublisher::Report(const std::string& error) {
  if (error == last_error_) return;
  if (error.empty())
    Log("info", "Archive status written again", {{"target", target_}});
  else
    Log("warning", "Archive status not written; retrying at the next round", {{"error", error}});
  last_error_ = error;
}

}  // namespace cnpgi_pgbackrest
