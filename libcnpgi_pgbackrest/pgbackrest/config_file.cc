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

absl::Status MakeDirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  chmod(dir.c_str(), 0700);
  return absl::OkStatus();
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
      absl::StrAppend(&out, p, "type=s3\n", p, "path=", r.destination_path, "\n", p, "s3-bucket=", r.bucket, "\n", p,
                      "s3-endpoint=", r.endpoint_host, "\n", p, "storage-port=", r.endpoint_port, "\n", p,
                      "s3-region=", r.s3_credentials->region, "\n", p, "s3-key-type=", r.s3_credentials->key_type,
                      "\n");
      if (!r.uri_style.empty()) absl::StrAppend(&out, p, "s3-uri-style=", r.uri_style, "\n");
      if (r.disable_verify_tls) absl::StrAppend(&out, p, "storage-verify-tls=n\n");
      if (r.endpoint_ca) absl::StrAppend(&out, p, "storage-ca-file=", RepoDir(dir, i + 1), "/ca.crt\n");
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
  std::vector<std::pair<std::string, std::string>> ca_files;
  for (std::size_t i = 0; i < archive.repositories.size(); ++i) {
    const Repository& r = archive.repositories[i];
    std::string env = absl::StrCat("PGBACKREST_REPO", i + 1, "_");
    auto add = [&](const SecretKeyRef& ref, const std::string& option) -> absl::Status {
      auto v = secrets_->Resolve(ref);
      if (!v.ok())
        return absl::Status(v.status().code(), absl::StrCat("Archive '", archive.name, "' repository ", i + 1, ": ",
                                                            v.status().message()));
      rendered.secret_env.push_back(absl::StrCat(env, option, "=", *v));
      return absl::OkStatus();
    };
    if (r.s3_credentials && r.s3_credentials->access_key_id)
      RETURN_IF_ERROR(add(*r.s3_credentials->access_key_id, "S3_KEY"));
    if (r.s3_credentials && r.s3_credentials->secret_access_key)
      RETURN_IF_ERROR(add(*r.s3_credentials->secret_access_key, "S3_KEY_SECRET"));
    if (r.encryption_key) RETURN_IF_ERROR(add(*r.encryption_key, "CIPHER_PASS"));
    if (r.endpoint_ca) {
      auto pem = secrets_->Resolve(*r.endpoint_ca);
      if (!pem.ok())
        return absl::Status(pem.status().code(), absl::StrCat("Archive '", archive.name, "' repository ", i + 1,
                                                              " endpointCA: ", pem.status().message()));
      ca_files.emplace_back(absl::StrCat(RepoDir(dir, i + 1), "/ca.crt"), *pem);
    }
  }
  std::string text = RenderConfigText(archive, instance_, dir);
  absl::MutexLock lock(&mu_);
  std::string fingerprint = text;
  for (const auto& [path, pem] : ca_files) absl::StrAppend(&fingerprint, "\n", path, "\n", pem);
  auto it = written_.find(archive.name);
  if (it != written_.end() && it->second == fingerprint && access(rendered.config_path.c_str(), R_OK) == 0)
    return rendered;
  for (const char* sub : {"", "/lock", "/spool", "/log"}) RETURN_IF_ERROR(MakeDirs(absl::StrCat(dir, sub)));
  for (const auto& [path, pem] : ca_files) {
    RETURN_IF_ERROR(MakeDirs(std::filesystem::path(path).parent_path().string()));
    RETURN_IF_ERROR(WriteFileAtomically(path, pem));
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
