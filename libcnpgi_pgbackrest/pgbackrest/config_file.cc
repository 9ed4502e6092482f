#include "pgbackrest/config_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <unistd.h>

#include <sys/stat.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/files.h"
#include "common/status_macros.h"
#include "pgbackrest/async_spool.h"

namespace cnpgi_pgbackrest {
namespace {

std::string RepoDir(const std::string& dir, std::size_t index) { return absl::StrCat(dir, "/repo", index); }
std::string CaFile(const std::string& dir, std::size_t index) { return absl::StrCat(RepoDir(dir, index), "/ca.crt"); }
std::string GcsKeyFile(const std::string& dir, std::size_t index) {
  return absl::StrCat(RepoDir(dir, index), "/gcs-key.json");
}

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  chmod(dir.c_str(), 0700);
  return absl::OkStatus();
}

// The endpoint as pgBackRest 2.45 names it: repoN-<store>-endpoint plus the shared repoN-storage-port
// (repoN-storage-host, formerly repo-azure-host/repo-s3-host, only redirects connections: unused).
void AppendEndpoint(std::string& out, const std::string& p, absl::string_view store, const Repository& r) {
  if (r.endpoint_host.empty())
    return;  // azure, gcs: pgBackRest's default (blob.core.windows.net, storage.googleapis.com)
  absl::StrAppend(&out, p, store, "-endpoint=", r.endpoint_host, "\n", p, "storage-port=", r.endpoint_port, "\n");
}

// The options of an s3, azure or gcs repository. Credentials are not here: they reach pgBackRest
// through its environment (ConfigFiles::Render), or as a 0600 file beside this one (a GCS service key).
void AppendObjectStore(std::string& out, const std::string& p, const Repository& r, const std::string& dir,
                       std::size_t n) {
  if (r.type == RepositoryType::kS3) {
    absl::StrAppend(&out, p, "type=s3\n", p, "path=", r.destination_path, "\n", p, "s3-bucket=", r.bucket, "\n");
    AppendEndpoint(out, p, "s3", r);
    absl::StrAppend(&out, p, "s3-region=", r.s3_credentials->region, "\n", p,
                    "s3-key-type=", r.s3_credentials->key_type, "\n");
    if (!r.uri_style.empty()) absl::StrAppend(&out, p, "s3-uri-style=", r.uri_style, "\n");
  } else if (r.type == RepositoryType::kAzure) {
    absl::StrAppend(&out, p, "type=azure\n", p, "path=", r.destination_path, "\n", p, "azure-container=", r.bucket,
                    "\n", p, "azure-key-type=", r.azure_credentials->key_type, "\n");
    AppendEndpoint(out, p, "azure", r);
    if (!r.uri_style.empty()) absl::StrAppend(&out, p, "azure-uri-style=", r.uri_style, "\n");
  } else {
    absl::StrAppend(&out, p, "type=gcs\n", p, "path=", r.destination_path, "\n", p, "gcs-bucket=", r.bucket, "\n", p,
                    "gcs-key-type=", r.gcs_credentials->key_type, "\n");
    AppendEndpoint(out, p, "gcs", r);
    // keyType service: repo-gcs-key is the path of the JSON key file; token: the token, in the environment.
    if (r.gcs_credentials->key_type == "service") absl::StrAppend(&out, p, "gcs-key=", GcsKeyFile(dir, n), "\n");
  }
  if (r.disable_verify_tls) absl::StrAppend(&out, p, "storage-verify-tls=n\n");
  // repo-storage-ca-file (2.45 and 2.60; it replaced repo-s3-ca-file and repo-azure-ca-file) applies
  // to every TLS store: s3, azure and gcs.
  if (r.endpoint_ca) absl::StrAppend(&out, p, "storage-ca-file=", CaFile(dir, n), "\n");
}

}  // namespace

std::string RenderConfigText(const Archive& archive, const InstanceLocation& instance, const std::string& dir) {
  std::string out = absl::StrCat("# Rendered by cnpgi-pgbackrest from Archive ", archive.name,
                                 "; regenerated when the Archive changes.\n[global]\n");
  for (std::size_t i = 0; i < archive.repositories.size(); ++i) {
    const Repository& r = archive.repositories[i];
    std::string p = absl::StrCat("repo", i + 1, "-");
    if (r.type == RepositoryType::kPosix) {
      absl::StrAppend(&out, p, "type=posix\n", p, "path=", r.destination_path, "\n");
    } else {
      AppendObjectStore(out, p, r, dir, i + 1);
    }
    if (!r.encryption.empty()) absl::StrAppend(&out, p, "cipher-type=", r.encryption, "\n");
    const Retention& ret = r.retention;
    if (ret.full) absl::StrAppend(&out, p, "retention-full=", *ret.full, "\n");
    if (!ret.full_type.empty()) absl::StrAppend(&out, p, "retention-full-type=", ret.full_type, "\n");
    if (ret.diff) absl::StrAppend(&out, p, "retention-diff=", *ret.diff, "\n");
    if (ret.archive) absl::StrAppend(&out, p, "retention-archive=", *ret.archive, "\n");
    if (!ret.archive_type.empty()) absl::StrAppend(&out, p, "retention-archive-type=", ret.archive_type, "\n");
    if (ret.history) absl::StrAppend(&out, p, "retention-history=", *ret.history, "\n");
  }
  if (!archive.compression.empty()) absl::StrAppend(&out, "compress-type=", archive.compression, "\n");
  if (archive.compress_level) absl::StrAppend(&out, "compress-level=", *archive.compress_level, "\n");
  // Console output is parsed (info --output=json); errors still reach stderr for our messages.
  absl::StrAppend(&out, "log-level-console=off\nlog-level-stderr=warn\nlog-level-file=off\n", "lock-path=", dir,
                  "/lock\n", "spool-path=", dir, "/spool\n", "log-path=", dir, "/log\n");
  // The WAL path must fail fast when storage is unreachable: pgBackRest retries each
  // request about eight times io-timeout before giving up.
  std::string push, get;
  if (instance.wal_io_timeout_seconds > 0) {
    absl::StrAppend(&push, "io-timeout=", instance.wal_io_timeout_seconds, "\n");
    absl::StrAppend(&get, "io-timeout=", instance.wal_io_timeout_seconds, "\n");
  }
  // Async: one long-lived pgBackRest process pushes the backlog in parallel; the foreground
  // archive-push acknowledges a segment only once that process reports it stored.
  if (instance.wal_push_processes > 0)
    absl::StrAppend(&push, "archive-async=y\nprocess-max=", instance.wal_push_processes, "\n");
  // Only when the Archive asks for it: pgBackRest then reports dropped WAL as archived (its .ok
  // files too), and the WAL archive logs and counts each drop.
  if (archive.archive_push_queue_max)
    absl::StrAppend(&push, "archive-push-queue-max=", *archive.archive_push_queue_max, "\n");
  if (!push.empty()) absl::StrAppend(&out, "\n[global:archive-push]\n", push);
  if (!get.empty()) absl::StrAppend(&out, "\n[global:archive-get]\n", get);
  return out;
}

std::vector<std::string> PgInstanceEnv(const InstanceLocation& instance, const std::string& pgdata) {
  std::vector<std::string> out = {absl::StrCat("PGBACKREST_PG1_PATH=", pgdata.empty() ? instance.pgdata : pgdata)};
  if (!instance.socket_dir.empty()) out.push_back(absl::StrCat("PGBACKREST_PG1_SOCKET_PATH=", instance.socket_dir));
  out.push_back(absl::StrCat("PGBACKREST_PG1_PORT=", instance.port));
  if (!instance.user.empty()) out.push_back(absl::StrCat("PGBACKREST_PG1_USER=", instance.user));
  return out;
}

absl::StatusOr<RenderedArchive> ConfigFiles::Render(const Archive& archive) {
  std::string dir = absl::StrCat(work_dir_, "/", archive.name);
  RenderedArchive rendered{archive.name, absl::StrCat(dir, "/pgbackrest.conf"), {}};
  // Files only pgBackRest (this user) may read, beside the configuration: CA bundles, GCS keys.
  std::vector<std::pair<std::string, std::string>> private_files;
  for (std::size_t i = 0; i < archive.repositories.size(); ++i) {
    const Repository& r = archive.repositories[i];
    std::string env = absl::StrCat("PGBACKREST_REPO", i + 1, "_");
    auto resolve = [&](const SecretKeyRef& ref, absl::string_view what) -> absl::StatusOr<std::string> {
      auto v = secrets_->Resolve(ref);
      if (!v.ok())
        return absl::Status(v.status().code(), absl::StrCat("Archive '", archive.name, "' repository ", i + 1, what,
                                                            ": ", v.status().message()));
      return v;
    };
    auto add = [&](const SecretKeyRef& ref, const std::string& option) -> absl::Status {
      ASSIGN_OR_RETURN(std::string v, resolve(ref, ""));
      rendered.secret_env.push_back(absl::StrCat(env, option, "=", v));
      return absl::OkStatus();
    };
    auto add_file = [&](const SecretKeyRef& ref, std::string path, absl::string_view what) -> absl::Status {
      ASSIGN_OR_RETURN(std::string v, resolve(ref, what));
      private_files.emplace_back(std::move(path), std::move(v));
      return absl::OkStatus();
    };
    if (r.s3_credentials && r.s3_credentials->access_key_id)
      RETURN_IF_ERROR(add(*r.s3_credentials->access_key_id, "S3_KEY"));
    if (r.s3_credentials && r.s3_credentials->secret_access_key)
      RETURN_IF_ERROR(add(*r.s3_credentials->secret_access_key, "S3_KEY_SECRET"));
    if (r.azure_credentials) {
      RETURN_IF_ERROR(add(r.azure_credentials->account, "AZURE_ACCOUNT"));
      RETURN_IF_ERROR(add(r.azure_credentials->key, "AZURE_KEY"));
    }
    if (r.gcs_credentials && r.gcs_credentials->key) {
      if (r.gcs_credentials->key_type == "service")
        RETURN_IF_ERROR(add_file(*r.gcs_credentials->key, GcsKeyFile(dir, i + 1), " gcsCredentials.key"));
      else
        RETURN_IF_ERROR(add(*r.gcs_credentials->key, "GCS_KEY"));
    }
    if (r.encryption_key) RETURN_IF_ERROR(add(*r.encryption_key, "CIPHER_PASS"));
    if (r.endpoint_ca) RETURN_IF_ERROR(add_file(*r.endpoint_ca, CaFile(dir, i + 1), " endpointCA"));
  }
  std::string text = RenderConfigText(archive, instance_, dir);
  absl::MutexLock lock(&mu_);
  std::string fingerprint = text;
  for (const auto& [path, content] : private_files) absl::StrAppend(&fingerprint, "\n", path, "\n", content);
  auto it = written_.find(archive.name);
  if (it != written_.end() && it->second == fingerprint && access(rendered.config_path.c_str(), R_OK) == 0)
    return rendered;
  for (const char* sub : {"", "/lock", "/spool", "/log"}) RETURN_IF_ERROR(MakeDirs(absl::StrCat(dir, sub)));
  for (const auto& [path, content] : private_files) {
    RETURN_IF_ERROR(MakeDirs(std::filesystem::path(path).parent_path().string()));
    RETURN_IF_ERROR(WriteFileAtomically(path, content));  // mode 0600
  }
  if (ReadFileText(rendered.config_path) != text) {
    // pgBackRest's async .ok files vouch for a segment under the configuration that pushed it:
    // a different repository must not inherit them (a push too many is harmless, one too few is not).
    // A worker of the old configuration would write more of them after the clean-up: wait for it.
    for (const auto& f : ListDirectory(absl::StrCat(dir, "/lock")))
      if (absl::EndsWith(f, "-archive.lock") && AsyncPushWorkerRunning({"", absl::StrCat(dir, "/lock/", f)}))
        return absl::UnavailableError(absl::StrCat("Archive '", archive.name,
                                                   "' changed while a pgBackRest archive-push worker of its previous "
                                                   "configuration is still running; retrying once it ends"));
    std::error_code ec;
    std::filesystem::remove_all(absl::StrCat(dir, "/spool/archive"), ec);
    if (ec)
      return absl::InternalError(
          absl::StrCat("cannot clear the archive-push spool of Archive '", archive.name, "': ", ec.message()));
  }
  RETURN_IF_ERROR(WriteFileAtomically(rendered.config_path, text));
  written_[archive.name] = fingerprint;
  return rendered;
}

}  // namespace cnpgi_pgbackrest
