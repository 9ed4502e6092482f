// Integration-test harness: Cluster and Archive fixtures as CNPG and the operator write them.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iostream>
#include <pwd.h>
#include <regex>
#include <set>
#include <signal.h>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "absl/strings/string_view.h"

#include "common/wal_name.h"
#include "harness.h"
#include "harness_internal.h"

namespace cnpgi_it {
using namespace internal;

// --- fixtures -----------------------------------------------------------------

json ClusterJson(const std::string& name, const std::string& archive, const std::string& pod) {
  return json{{"apiVersion", "postgresql.cnpg.io/v1"},
              {"kind", "Cluster"},
              {"metadata",
               {{"name", name},
                {"namespace", "default"},
                {"uid", "8f4a6f1e-1f3c-4a5e-9d1e-2b7c3d4e5f60"},
                {"generation", 1},
                {"creationTimestamp", "2026-11-21T06:00:00Z"},
                {"annotations", json::object()}}},
              {"spec",
               {{"instances", 1},
                {"imageName", "ghcr.io/cloudnative-pg/postgresql:15"},
                {"postgresUID", 26},
                {"postgresGID", 26},
                {"primaryUpdateStrategy", "unsupervised"},
                {"primaryUpdateMethod", "restart"},
                {"logLevel", "info"},
                {"enableSuperuserAccess", false},
                {"plugins", json::array({{{"name", "pgbackrest.cnpg.opera.com"},
                                          {"enabled", true},
                                          {"isWALArchiver", true},
                                          {"parameters", {{"pgbackrestObjectName", archive}}}}})},
                {"storage", {{"size", "1Gi"}, {"resizeInUseVolumes", true}}},
                {"postgresql", {{"parameters", {{"archive_timeout", "5min"}}}}}}},
              {"status",
               {{"instances", 1},
                {"readyInstances", 1},
                {"currentPrimary", pod},
                {"targetPrimary", pod},
                {"timelineID", 1},
                {"phase", "Cluster in healthy state"},
                {"latestGeneratedNode", 1},
                {"pluginStatus",
                 json::array({{{"name", "pgbackrest.cnpg.opera.com"},
                               {"version", "0.1.0"},
                               {"capabilities", json::array({"TYPE_LIFECYCLE_SERVICE", "TYPE_RECONCILER_HOOKS"})},
                               {"walCapabilities", json::array({"TYPE_ARCHIVE_WAL", "TYPE_RESTORE_WAL"})}}})}}}};
}

json ArchiveObject(const std::string& name, const json& repository, const std::string& compression) {
  return json{
      {"apiVersion", "pgbackrest.cnpg.opera.com/v1"},
      {"kind", "Archive"},
      {"metadata", {{"name", name}, {"namespace", "default"}}},
      {"spec", {{"configuration", {{"repositories", json::array({repository})}, {"compression", compression}}}}}};
}

json S3Archive(const std::string& name, const S3Service& s3, const std::string& path, int port) {
  return ArchiveObject(name,
                       {{"destinationPath", path},
                        {"bucket", s3.bucket},
                        {"endpointURL", s3.endpoint + ":" + std::to_string(port)},
                        {"uriStyle", "path"},
                        {"endpointCA", {{"name", "s3-ca"}, {"key", "ca.crt"}}},
                        {"encryption", "aes-256-cbc"},
                        {"encryptionKey", {{"name", "s3-creds"}, {"key", "ENCRYPTION_KEY"}}},
                        {"s3Credentials",
                         {{"region", s3.region},
                          {"accessKeyId", {{"name", "s3-creds"}, {"key", "ACCESS_KEY_ID"}}},
                          {"secretAccessKey", {{"name", "s3-creds"}, {"key", "ACCESS_SECRET_KEY"}}}}}},
                       "zst");
}

std::vector<std::string> SecretEnv(const S3Service& s3, const std::string& secret, const std::string& cipher) {
  return {"CNPGI_SECRET_s3-creds_ACCESS_KEY_ID=" + s3.key, "CNPGI_SECRET_s3-creds_ACCESS_SECRET_KEY=" + secret,
          "CNPGI_SECRET_s3-creds_ENCRYPTION_KEY=" + cipher, "CNPGI_SECRET_s3-ca_ca.crt=" + ReadFile(s3.ca_file)};
}

json PosixArchive(const std::string& name, const std::string& path) {
  return ArchiveObject(name, {{"type", "posix"}, {"destinationPath", path}}, "lz4");
}

std::map<std::string, double> Scrape(const ArchivingPrimary& primary, const std::string& pod) {
  auto r = RunAsPostgres({Programs::Get().standin, "metrics", "--cluster-json=" + primary.cluster_file,
                          "--plugins-dir=" + primary.plugins},
                         {"POD_NAME=" + pod});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::map<std::string, double> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string ArchiveCommand(const std::string& cluster_file, const std::string& plugins_dir, const std::string& pod) {
  return "POD_NAME=" + pod + " " + Programs::Get().standin +
         " wal-archive --log-destination /dev/null --cluster-json=" + cluster_file + " --plugins-dir=" + plugins_dir +
         " %p";
}

std::string RestoreCommand(const std::string& cluster_file, const std::string& plugins_dir, const std::string& pod) {
  return "POD_NAME=" + pod + " " + Programs::Get().standin +
         " wal-restore --log-destination /dev/null --cluster-json=" + cluster_file + " --plugins-dir=" + plugins_dir +
         " %f %p";
}

}  // namespace cnpgi_it
