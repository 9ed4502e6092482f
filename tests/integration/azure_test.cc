// An Azure repository for real: WAL archived through the sidecar by PostgreSQL 15, a backup and a
// recovery through the plugin, on Azurite (tests/services/azurite.sh: the Blob service over HTTPS
// on loopback with its own CA, path-style URIs, a Shared Key account) with pgBackRest 2.45.
#include <filesystem>

#include <doctest/doctest.h>

#include "harness.h"
#include "sidecar_client.h"

using namespace cnpgi_it;

namespace {

// The zstd frame magic (28 b5 2f fd): a blob holds what pgBackRest compressed, not the raw WAL.
const std::string kZstdMagic = "\x28\xb5\x2f\xfd";

const std::string* FindBlob(const std::vector<std::string>& blobs, const std::string& needle) {
  auto it = std::find_if(blobs.begin(), blobs.end(),
                         [&](const std::string& b) { return b.find(needle) != std::string::npos; });
  return it == blobs.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("Azure: WAL into the container through the sidecar, a backup, and a recovery with the right rows") {
  auto azure = AzureService::FromEnv();
  RequireService(azure.has_value() && FileExists("/usr/bin/pgbackrest"),
                 "the Azure test service (start it with tests/services/azurite.sh; tests/run-all.sh does)");
  const std::string path = "/it-azure-" + std::to_string(getpid());
  const std::string prefix = path.substr(1);
  ArchivingPrimary src("azure", "azure", AzureArchive("azure", *azure, path), AzureSecretEnv(*azure, azure->key));
  src.pg.Sql("CREATE TABLE events(batch int, id int)");
  src.pg.Sql("INSERT INTO events SELECT 1, g FROM generate_series(1, 50) g");
  std::vector<std::string> segments = {src.pg.SwitchWal(), src.pg.SwitchWal()};
  REQUIRE_MESSAGE(src.pg.WaitArchivedThrough(segments.back(), std::chrono::seconds(120)), src.Diagnostics());

  // The segments are blobs in the container, written by pgBackRest (zstd), under the stanza's path.
  auto blobs = azure->ListBlobs(prefix + "/archive/cluster-example/");
  INFO("blobs: " << blobs.size());
  for (const auto& seg : segments) {
    const std::string* blob = FindBlob(blobs, "/" + seg + "-");
    REQUIRE_MESSAGE(blob != nullptr, seg << " is not in the container");
    CHECK(blob->ends_with(".zst"));
    CHECK(azure->GetBlobPrefix(*blob, 4) == kZstdMagic);
  }
  REQUIRE(FindBlob(blobs, "/archive/cluster-example/archive.info") != nullptr);
  CHECK(azure->GetBlobPrefix(prefix + "/archive/cluster-example/archive.info", 10) == "[backrest]");

  // The account key reached pgBackRest through its environment only: no rendered file holds it.
  for (auto& e : std::filesystem::recursive_directory_iterator(src.work))
    if (e.is_regular_file())
      CHECK_MESSAGE(ReadFile(e.path()).find(azure->key) == std::string::npos, e.path() << " holds the account key");

  // A wrong account key: archiving is refused with pgBackRest's reason, the key is not echoed, and
  // the segment stays for PostgreSQL's retry.
  src.sidecar_env = AzureSecretEnv(*azure, "d3Jvbmcta2V5LW5vdC10aGUtYWNjb3VudHMta2V5LTE=");
  src.StartSidecar();
  std::string held = src.pg.SwitchWal();
  auto refused = CallArchive(src.sidecar->socket_path(), src.cluster.dump(), src.pg.pgdata() + "/pg_wal/" + held);
  INFO("message: " << refused.error_message());
  CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(refused.error_message().find("archiving " + held + " to Archive 'azure' stanza 'cluster-example' failed") == 0);
  CHECK(refused.error_message().find("repo1: [ProtocolError]") != std::string::npos);
  CHECK(refused.error_message().find("d3Jvbmcta2V5") == std::string::npos);
  CHECK_MESSAGE(WaitUntil(
                    [&] {
                      auto ready = src.pg.ReadyFiles();
                      return std::find(ready.begin(), ready.end(), held) != ready.end();
                    },
                    std::chrono::seconds(20)),
                "the refused segment must stay .ready");
  auto done = src.pg.DoneFiles();
  CHECK(std::find(done.begin(), done.end(), held) == done.end());
  src.sidecar_env = AzureSecretEnv(*azure, azure->key);
  src.StartSidecar();
  src.pg.NudgeArchiver();
  REQUIRE_MESSAGE(src.pg.WaitArchived(std::chrono::seconds(120)), src.Diagnostics());
  CHECK(FindBlob(azure->ListBlobs(prefix + "/archive/cluster-example/"), "/" + held + "-") != nullptr);

  // A full backup through CNPG's Backup flow: its manifest and files are blobs too.
  auto backup = src.TakeBackup("azure-full", {{"type", "full"}});
  REQUIRE_MESSAGE(backup.exit_code == 0, backup.err << src.sidecar->Log());
  json status = json::parse(backup.out);
  CHECK(status["pluginMetadata"]["type"] == "full");
  const std::string id = status["backupId"];
  auto backup_blobs = azure->ListBlobs(prefix + "/backup/cluster-example/" + id + "/");
  CHECK(FindBlob(backup_blobs, "/backup.manifest") != nullptr);
  const std::string* pg_version = FindBlob(backup_blobs, "/pg_data/PG_VERSION.zst");
  REQUIRE_MESSAGE(pg_version != nullptr, "PG_VERSION is not in the backup");
  CHECK(azure->GetBlobPrefix(*pg_version, 4) == kZstdMagic);

  // Rows written after the backup reach the recovery only through the archived WAL.
  src.pg.Sql("INSERT INTO events SELECT 2, g FROM generate_series(1, 50) g");
  std::string last = src.pg.SwitchWal();
  REQUIRE_MESSAGE(src.pg.WaitArchivedThrough(last, std::chrono::seconds(120)), src.Diagnostics());
  src.pg.Stop();

  Recovery recovery(src, json());
  recovery.Recover();
  CHECK(recovery.Batches() == "1,2");
  CHECK(recovery.sidecar->Log().find(id) != std::string::npos);
  recovery.pg.Stop();
}
