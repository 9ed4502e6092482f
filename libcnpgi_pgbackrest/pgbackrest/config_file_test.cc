#include "pgbackrest/config_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <sys/stat.h>

using namespace cnpgi_pgbackrest;

namespace {

class MapSecrets : public SecretResolver {
 public:
  std::map<std::string, std::string> values;
  absl::StatusOr<std::string> Resolve(const SecretKeyRef& ref) const override {
    auto it = values.find(ref.name + "/" + ref.key);
    if (it == values.end()) return absl::NotFoundError("Secret '" + ref.name + "' key '" + ref.key + "' missing");
    return it->second;
  }
};

Archive S3Archive() {
  auto a = ParseArchive(nlohmann::json::parse(R"({"metadata":{"name":"s3"},"spec":{"configuration":{
    "repositories":[{"destinationPath":"/repo","bucket":"pgbr","endpointURL":"localhost:7480","uriStyle":"path",
      "endpointCA":{"name":"s3","key":"ca.crt"},"encryption":"aes-256-cbc","encryptionKey":{"name":"s3","key":"pass"},
      "retention":{"full":2},
      "s3Credentials":{"region":"us-east-1","accessKeyId":{"name":"s3","key":"id"},"secretAccessKey":{"name":"s3","key":"secret"}}},
     {"type":"posix","destinationPath":"/backup"}],
    "compression":"lz4"}}})"));
  REQUIRE(a.ok());
  return *a;
}

std::string Slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("RenderConfigText writes options, never secrets") {
  InstanceLocation pg{"/pgdata", "/controller/run", 5432, "postgres"};
  std::string text = RenderConfigText(S3Archive(), pg, "/work/s3");
  for (const char* line :
       {"repo1-type=s3\n", "repo1-path=/repo\n", "repo1-s3-bucket=pgbr\n", "repo1-s3-endpoint=localhost\n",
        "repo1-storage-port=7480\n", "repo1-s3-uri-style=path\n", "repo1-s3-region=us-east-1\n",
        "repo1-storage-ca-file=/work/s3/repo1/ca.crt\n", "repo1-cipher-type=aes-256-cbc\n", "repo1-retention-full=2\n",
        "repo2-type=posix\n", "repo2-path=/backup\n", "compress-type=lz4\n", "lock-path=/work/s3/lock\n",
        "log-level-console=off\n", "[global:archive-push]\nio-timeout=10\n", "[global:archive-get]\nio-timeout=10\n"})
    CHECK_MESSAGE(text.find(line) != std::string::npos, line);
  CHECK(text.find("storage-verify-tls") == std::string::npos);
  CHECK(text.find("cipher-pass") == std::string::npos);
  CHECK(text.find("s3-key=") == std::string::npos);
  // Stanza options are never read from [global]; they go in the environment.
  CHECK(text.find("pg1-") == std::string::npos);
  CHECK(PgInstanceEnv(pg) == std::vector<std::string>{"PGBACKREST_PG1_PATH=/pgdata",
                                                      "PGBACKREST_PG1_SOCKET_PATH=/controller/run",
                                                      "PGBACKREST_PG1_PORT=5432", "PGBACKREST_PG1_USER=postgres"});
  CHECK(PgInstanceEnv(pg, "/restore")[0] == "PGBACKREST_PG1_PATH=/restore");
  CHECK(text.find("archive-async") == std::string::npos);
  pg.wal_push_processes = 4;
  std::string async = RenderConfigText(S3Archive(), pg, "/work/s3");
  CHECK(async.find("[global:archive-push]\nio-timeout=10\narchive-async=y\nprocess-max=4\n") != std::string::npos);
  CHECK(async.find("archive-push-queue-max") == std::string::npos);
}

Archive CloudArchive() {
  auto a = ParseArchive(nlohmann::json::parse(R"({"metadata":{"name":"cloud"},"spec":{"configuration":{
    "repositories":[
      {"bucket":"pgbr","destinationPath":"/a","endpointURL":"127.0.0.1:10000","endpointCA":{"name":"az","key":"ca"},
       "azureCredentials":{"account":{"name":"az","key":"account"},"key":{"name":"az","key":"key"},"uriStyle":"path"}},
      {"bucket":"gb","destinationPath":"/g","gcsCredentials":{"key":{"name":"gcs","key":"sa.json"}}},
      {"bucket":"gt","gcsCredentials":{"keyType":"token","key":{"name":"gcs","key":"token"}},
       "endpointURL":"https://gcs.local:4443"},
      {"type":"azure","bucket":"c","azureCredentials":{"keyType":"sas","account":{"name":"az","key":"account"},
       "key":{"name":"az","key":"sas"}}}]}}})"));
  REQUIRE(a.ok());
  return *a;
}

TEST_CASE("Azure and GCS repositories: pgBackRest 2.45's option names, credentials outside the file") {
  std::string text = RenderConfigText(CloudArchive(), {"/pgdata", "/run", 5432, "postgres"}, "/work/cloud");
  for (const char* line :
       {"repo1-type=azure\n", "repo1-path=/a\n", "repo1-azure-container=pgbr\n", "repo1-azure-key-type=shared\n",
        "repo1-azure-endpoint=127.0.0.1\n", "repo1-storage-port=10000\n", "repo1-azure-uri-style=path\n",
        "repo1-storage-ca-file=/work/cloud/repo1/ca.crt\n", "repo2-type=gcs\n", "repo2-gcs-bucket=gb\n",
        "repo2-gcs-key-type=service\n", "repo2-gcs-key=/work/cloud/repo2/gcs-key.json\n", "repo3-gcs-key-type=token\n",
        "repo3-gcs-endpoint=gcs.local\n", "repo3-storage-port=4443\n", "repo4-azure-key-type=sas\n"})
    CHECK_MESSAGE(text.find(line) != std::string::npos, line);
  // Defaults left to pgBackRest: no endpoint (blob.core.windows.net, storage.googleapis.com), no port.
  CHECK(text.find("repo2-gcs-endpoint") == std::string::npos);
  CHECK(text.find("repo4-azure-endpoint") == std::string::npos);
  CHECK(text.find("repo4-storage-port") == std::string::npos);
  CHECK(text.find("repo3-gcs-key=") == std::string::npos);
  CHECK(text.find("s3-") == std::string::npos);

  std::string dir = std::filesystem::temp_directory_path() / ("cnpgi-cloud-test-" + std::to_string(getpid()));
  MapSecrets secrets;
  secrets.values = {{"az/account", "devstoreaccount1"},
                    {"az/key", "KEY=="},
                    {"az/sas", "sv=2020&sig=x"},
                    {"az/ca", "-----CA-----\n"},
                    {"gcs/sa.json", "{\"type\":\"service_account\"}"},
                    {"gcs/token", "TOKEN"}};
  ConfigFiles files(dir, {"/pgdata", "/run", 5432, "postgres"}, &secrets);
  auto r = files.Render(CloudArchive());
  REQUIRE(r.ok());
  CHECK(r->secret_env == std::vector<std::string>{"PGBACKREST_REPO1_AZURE_ACCOUNT=devstoreaccount1",
                                                  "PGBACKREST_REPO1_AZURE_KEY=KEY==", "PGBACKREST_REPO3_GCS_KEY=TOKEN",
                                                  "PGBACKREST_REPO4_AZURE_ACCOUNT=devstoreaccount1",
                                                  "PGBACKREST_REPO4_AZURE_KEY=sv=2020&sig=x"});
  std::string conf = Slurp(r->config_path);
  for (const char* secret : {"devstoreaccount1", "KEY==", "TOKEN", "sig=x", "service_account"})
    CHECK_MESSAGE(conf.find(secret) == std::string::npos, secret);
  // The CA bundle and the service account key: files of mode 0600 beside the configuration.
  for (const auto& [file, content] : std::vector<std::pair<std::string, std::string>>{
           {dir + "/cloud/repo1/ca.crt", "-----CA-----\n"},
           {dir + "/cloud/repo2/gcs-key.json", "{\"type\":\"service_account\"}"}}) {
    CHECK(Slurp(file) == content);
    struct stat st;
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
  secrets.values.erase("gcs/sa.json");
  Archive changed = CloudArchive();
  changed.compression = "zst";
  auto missing = files.Render(changed);
  REQUIRE_FALSE(missing.ok());
  CHECK(std::string(missing.status().message()) ==
        "Archive 'cloud' repository 2 gcsCredentials.key: Secret 'gcs' key 'sa.json' missing");
  std::filesystem::remove_all(dir);
}

TEST_CASE("ConfigFiles renders once, puts secrets in the environment, and re-renders on change") {
  std::string dir = std::filesystem::temp_directory_path() / ("cnpgi-config-test-" + std::to_string(getpid()));
  MapSecrets secrets;
  secrets.values = {{"s3/id", "AKID"}, {"s3/secret", "SECRET"}, {"s3/pass", "PASS"}, {"s3/ca.crt", "-----PEM-----\n"}};
  ConfigFiles files(dir, {"/pgdata", "/run", 5432, "postgres"}, &secrets);
  auto r = files.Render(S3Archive());
  REQUIRE(r.ok());
  CHECK(r->config_path == dir + "/s3/pgbackrest.conf");
  CHECK(r->secret_env == std::vector<std::string>{"PGBACKREST_REPO1_S3_KEY=AKID",
                                                  "PGBACKREST_REPO1_S3_KEY_SECRET=SECRET",
                                                  "PGBACKREST_REPO1_CIPHER_PASS=PASS"});
  std::string conf = Slurp(r->config_path);
  CHECK(conf.find("AKID") == std::string::npos);
  CHECK(conf.find("SECRET") == std::string::npos);
  CHECK(Slurp(dir + "/s3/repo1/ca.crt") == "-----PEM-----\n");
  struct stat st;
  REQUIRE(stat(r->config_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Unchanged: the file is not rewritten (same inode).
  auto again = files.Render(S3Archive());
  REQUIRE(again.ok());
  struct stat st2;
  stat(r->config_path.c_str(), &st2);
  CHECK(st.st_ino == st2.st_ino);

  // pgBackRest's async .ok files survive an unchanged configuration, also in a new sidecar process...
  std::string ok = dir + "/s3/spool/archive/main/out/000000010000000000000001.ok";
  std::filesystem::create_directories(dir + "/s3/spool/archive/main/out");
  std::ofstream(ok).close();
  ConfigFiles restarted(dir, {"/pgdata", "/run", 5432, "postgres"}, &secrets);
  REQUIRE(restarted.Render(S3Archive()).ok());
  CHECK(std::filesystem::exists(ok));

  // ...but not a change: they vouch only for the repositories that stored the segments.
  Archive changed = S3Archive();
  changed.compression = "zst";
  REQUIRE(files.Render(changed).ok());
  CHECK(Slurp(r->config_path).find("compress-type=zst") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(ok));
  CHECK(std::filesystem::exists(dir + "/s3/spool"));

  // A queue maximum only when the Archive sets one, in archive-push's section, in bytes.
  CHECK(Slurp(r->config_path).find("archive-push-queue-max") == std::string::npos);
  changed.archive_push_queue_max = std::uint64_t{1} << 30;
  REQUIRE(files.Render(changed).ok());
  std::string with_max = Slurp(r->config_path);
  auto section = with_max.find("[global:archive-push]");
  REQUIRE(section != std::string::npos);
  CHECK(with_max.find("archive-push-queue-max=1073741824\n", section) != std::string::npos);

  // A missing secret names the Archive, the repository and the Secret key.
  secrets.values.erase("s3/pass");
  auto missing = files.Render(changed);
  REQUIRE_FALSE(missing.ok());
  CHECK(std::string(missing.status().message()) == "Archive 's3' repository 1: Secret 's3' key 'pass' missing");
  std::filesystem::remove_all(dir);
}
