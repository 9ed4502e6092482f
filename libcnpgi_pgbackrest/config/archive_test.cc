#include "config/archive.h"

#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

// The Archive of the user documentation, as kubectl would send it (YAML → JSON).
json SeedArchive() {
  return json::parse(R"({
    "apiVersion": "pgbackrest.cnpg.opera.com/v1", "kind": "Archive",
    "metadata": {"name": "minio-store"},
    "spec": {
      "configuration": {
        "repositories": [{
          "destinationPath": "/", "bucket": "backups", "endpointURL": "minio:9000",
          "disableVerifyTLS": true, "encryption": "aes-256-cbc",
          "encryptionKey": {"name": "minio", "key": "ENCRYPTION_KEY"},
          "s3Credentials": {"region": "dummy",
            "accessKeyId": {"name": "minio", "key": "ACCESS_KEY_ID"},
            "secretAccessKey": {"name": "minio", "key": "ACCESS_SECRET_KEY"}}}],
        "compression": "zst"},
      "instanceSidecarConfiguration": {"resources": {"requests": {"memory": "2Gi", "cpu": "2"},
                                                     "limits": {"memory": "2Gi", "cpu": "2"}}}}})");
}

std::string ErrorOf(const json& j) {
  auto a = ParseArchive(j);
  REQUIRE_FALSE(a.ok());
  return std::string(a.status().message());
}

}  // namespace

TEST_CASE("The documented Archive parses") {
  auto a = ParseArchive(SeedArchive());
  REQUIRE(a.ok());
  CHECK(a->name == "minio-store");
  REQUIRE(a->repositories.size() == 1);
  const Repository& r = a->repositories[0];
  CHECK(r.type == RepositoryType::kS3);
  CHECK(r.bucket == "backups");
  CHECK(r.endpoint_host == "minio");
  CHECK(r.endpoint_port == 9000);
  CHECK(r.disable_verify_tls);
  CHECK(r.encryption == "aes-256-cbc");
  CHECK(r.encryption_key == SecretKeyRef{"minio", "ENCRYPTION_KEY"});
  CHECK(r.s3_credentials->region == "dummy");
  CHECK(r.s3_credentials->access_key_id == SecretKeyRef{"minio", "ACCESS_KEY_ID"});
  CHECK(a->compression == "zst");
  CHECK(a->instance_sidecar_configuration["resources"]["limits"]["cpu"] == "2");
}

TEST_CASE("Endpoint forms: scheme, default port, plain HTTP refused") {
  json j = SeedArchive();
  j["spec"]["configuration"]["repositories"][0]["endpointURL"] = "https://s3.example.com/";
  auto a = ParseArchive(j);
  REQUIRE(a.ok());
  CHECK(a->repositories[0].endpoint_host == "s3.example.com");
  CHECK(a->repositories[0].endpoint_port == 443);
  j["spec"]["configuration"]["repositories"][0]["endpointURL"] = "http://minio:9000";
  CHECK(ErrorOf(j).find("spec.configuration.repositories[0].endpointURL") == 0);
  j["spec"]["configuration"]["repositories"][0]["endpointURL"] = "minio:99999";
  CHECK(ErrorOf(j).find("invalid port") != std::string::npos);
}

TEST_CASE("archivePushQueueMax: unset by default, a Kubernetes size of at least one segment when set") {
  json j = SeedArchive();
  auto a = ParseArchive(j);
  REQUIRE(a.ok());
  CHECK_FALSE(a->archive_push_queue_max.has_value());  // WAL is never dropped unless asked for
  j["spec"]["configuration"]["archivePushQueueMax"] = "4Gi";
  a = ParseArchive(j);
  REQUIRE(a.ok());
  CHECK(*a->archive_push_queue_max == (std::uint64_t{4} << 30));
  j["spec"]["configuration"]["archivePushQueueMax"] = "16Mi";
  CHECK(*ParseArchive(j)->archive_push_queue_max == (std::uint64_t{16} << 20));
  for (const char* bad : {"4GB", "4", "Gi", "-1Gi", "1.5Gi", "4gi", "9999999999Gi"}) {
    j["spec"]["configuration"]["archivePushQueueMax"] = bad;
    CHECK_MESSAGE(ErrorOf(j) == absl::StrCat("spec.configuration.archivePushQueueMax: '", bad,
                                             "' is not a size like 512Mi, 4Gi or 1Ti"),
                  bad);
  }
  j["spec"]["configuration"]["archivePushQueueMax"] = "4096Ti";
  CHECK(*ParseArchive(j)->archive_push_queue_max == (std::uint64_t{1} << 52));
  for (const char* big : {"4097Ti", "16777217Ti", "4194305Gi"}) {
    j["spec"]["configuration"]["archivePushQueueMax"] = big;
    CHECK(ErrorOf(j) ==
          absl::StrCat("spec.configuration.archivePushQueueMax: '", big, "' is more than pgBackRest allows (4096Ti)"));
  }
  j["spec"]["configuration"]["archivePushQueueMax"] = "15Mi";
  CHECK(ErrorOf(j) == "spec.configuration.archivePushQueueMax: '15Mi' is less than one WAL segment (16Mi)");
  j["spec"]["configuration"]["archivePushQueueMax"] = 4096;
  CHECK(ErrorOf(j) == "spec.configuration.archivePushQueueMax: must be a string");
}

TEST_CASE("Errors name the field path") {
  json j = SeedArchive();
  j["spec"]["configuration"]["repositories"][0]["s3Credentials"]["accessKeyId"].erase("key");
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].s3Credentials.accessKeyId.key: is required");

  j = SeedArchive();
  j["spec"]["configuration"]["compression"] = "zip";
  CHECK(ErrorOf(j).find("spec.configuration.compression: 'zip' is not one of") == 0);

  j = SeedArchive();
  j["spec"]["configuration"]["repositories"][0]["encryption"] = "aes-128";
  CHECK(ErrorOf(j).find("spec.configuration.repositories[0].encryption") == 0);

  j = SeedArchive();
  j["spec"]["configuration"]["repositories"][0].erase("encryptionKey");
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].encryptionKey: is required when encryption is set");

  j = SeedArchive();
  j["spec"]["configuration"]["repositories"][0]["bucktet"] = "typo";
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].bucktet: is not a known field");

  j = SeedArchive();
  j["spec"]["configuration"]["repositories"] = json::array();
  CHECK(ErrorOf(j) == "spec.configuration.repositories: needs at least one repository");

  j = SeedArchive();
  j["spec"]["configuration"]["repositories"][0]["disableVerifyTLS"] = "yes";
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].disableVerifyTLS: must be true or false");

  j = SeedArchive();
  j["kind"] = "ObjectStore";
  CHECK(ErrorOf(j) == "kind: must be Archive");
}

TEST_CASE("A posix repository needs a directory and no S3 fields") {
  json j = json::parse(R"({"metadata": {"name": "local"},
    "spec": {"configuration": {"repositories": [{"type": "posix", "destinationPath": "/var/lib/pgbackrest"}]}}})");
  auto a = ParseArchive(j);
  REQUIRE(a.ok());
  CHECK(a->repositories[0].type == RepositoryType::kPosix);
  CHECK(a->repositories[0].destination_path == "/var/lib/pgbackrest");
  j["spec"]["configuration"]["repositories"][0]["bucket"] = "b";
  CHECK(
      ErrorOf(j) ==
      "spec.configuration.repositories[0].bucket: only applies to object store repositories (type: s3, azure or gcs)");
  j["spec"]["configuration"]["repositories"][0].erase("bucket");
  j["spec"]["configuration"]["repositories"][0]["azureCredentials"] = json::object();
  CHECK(ErrorOf(j) ==
        "spec.configuration.repositories[0].azureCredentials: only applies to azure repositories (type "
        "is 'posix')");
  j["spec"]["configuration"]["repositories"][0].erase("azureCredentials");
  j["spec"]["configuration"]["repositories"][0].erase("bucket");
  j["spec"]["configuration"]["repositories"][0]["destinationPath"] = "relative/path";
  CHECK(ErrorOf(j).find("must be an absolute path") != std::string::npos);
}

// Opera PR #137's shape: no `type`, the azureCredentials block makes it Azure, bucket is the container.
json AzureArchive() {
  return json::parse(R"({"metadata": {"name": "azure-store"}, "spec": {"configuration": {"repositories": [{
    "destinationPath": "/", "bucket": "backups",
    "azureCredentials": {"account": {"name": "azure", "key": "AZURE_STORAGE_ACCOUNT"},
                         "key": {"name": "azure", "key": "AZURE_STORAGE_KEY"}}}]}}})");
}

TEST_CASE("An Azure repository: Opera's azureCredentials, the bucket as container, optional endpoint") {
  auto a = ParseArchive(AzureArchive());
  REQUIRE(a.ok());
  const Repository& r = a->repositories[0];
  CHECK(r.type == RepositoryType::kAzure);
  CHECK(r.bucket == "backups");
  CHECK(r.endpoint_host.empty());
  REQUIRE(r.azure_credentials);
  CHECK(r.azure_credentials->key_type == "shared");
  CHECK(r.azure_credentials->account == SecretKeyRef{"azure", "AZURE_STORAGE_ACCOUNT"});
  CHECK(r.azure_credentials->key == SecretKeyRef{"azure", "AZURE_STORAGE_KEY"});
  CHECK(SecretRefs(r) == std::vector<SecretKeyRef>{{"azure", "AZURE_STORAGE_ACCOUNT"}, {"azure", "AZURE_STORAGE_KEY"}});

  json j = AzureArchive();
  json& repo = j["spec"]["configuration"]["repositories"][0];
  repo["type"] = "azure";
  repo["endpointURL"] = "https://127.0.0.1:10000";
  repo["endpointCA"] = {{"name", "azurite"}, {"key", "ca.crt"}};
  repo["azureCredentials"]["keyType"] = "sas";
  repo["azureCredentials"]["uriStyle"] = "path";
  a = ParseArchive(j);
  REQUIRE(a.ok());
  CHECK(a->repositories[0].endpoint_host == "127.0.0.1");
  CHECK(a->repositories[0].endpoint_port == 10000);
  CHECK(a->repositories[0].uri_style == "path");
  CHECK(a->repositories[0].azure_credentials->key_type == "sas");

  repo["azureCredentials"]["keyType"] = "auto";
  CHECK(ErrorOf(j).find("spec.configuration.repositories[0].azureCredentials.keyType: 'auto' is not one of") == 0);
  repo["azureCredentials"].erase("keyType");
  repo["azureCredentials"].erase("key");
  CHECK(ErrorOf(j).find("spec.configuration.repositories[0].azureCredentials.key: is required") == 0);
  j = AzureArchive();
  j["spec"]["configuration"]["repositories"][0]["azureCredentials"]["accountName"] = "x";
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].azureCredentials.accountName: is not a known field");
  j = AzureArchive();
  j["spec"]["configuration"]["repositories"][0].erase("bucket");
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].bucket: is required for an azure repository (the container)");
  j = AzureArchive();
  j["spec"]["configuration"]["repositories"][0]["type"] = "s3";
  CHECK(ErrorOf(j) ==
        "spec.configuration.repositories[0].azureCredentials: only applies to azure repositories (type is 's3')");
  j = AzureArchive();
  j["spec"]["configuration"]["repositories"][0]["s3Credentials"] = {{"region", "r"}};
  CHECK(ErrorOf(j) ==
        "spec.configuration.repositories[0].s3Credentials: cannot be combined with azureCredentials (one "
        "store per repository)");
  j = AzureArchive();
  j["spec"]["configuration"]["repositories"][0]["type"] = "azure";
  j["spec"]["configuration"]["repositories"][0].erase("azureCredentials");
  CHECK(ErrorOf(j) ==
        "spec.configuration.repositories[0].azureCredentials: is required for an azure repository (an "
        "object)");
}

TEST_CASE("A GCS repository: keyType service, token or auto; the key a Secret") {
  json j = json::parse(R"({"metadata": {"name": "gcs-store"}, "spec": {"configuration": {"repositories": [{
    "bucket": "backups", "destinationPath": "/pg",
    "gcsCredentials": {"key": {"name": "gcs", "key": "service-account.json"}}}]}}})");
  auto a = ParseArchive(j);
  REQUIRE(a.ok());
  const Repository& r = a->repositories[0];
  CHECK(r.type == RepositoryType::kGcs);
  CHECK(r.gcs_credentials->key_type == "service");
  CHECK(r.gcs_credentials->key == SecretKeyRef{"gcs", "service-account.json"});
  json& repo = j["spec"]["configuration"]["repositories"][0];
  repo["gcsCredentials"]["keyType"] = "auto";
  CHECK(ErrorOf(j) ==
        "spec.configuration.repositories[0].gcsCredentials.key: must not be set with keyType auto (the "
        "instance's account)");
  repo["gcsCredentials"].erase("key");
  CHECK(ParseArchive(j).ok());
  repo["gcsCredentials"]["keyType"] = "token";
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].gcsCredentials.key: is required with keyType token");
  repo["gcsCredentials"]["keyType"] = "web-id";
  CHECK(ErrorOf(j).find("spec.configuration.repositories[0].gcsCredentials.keyType: 'web-id' is not one of") == 0);
  repo["gcsCredentials"] = {{"keyType", "auto"}};
  repo["uriStyle"] = "path";
  CHECK(ErrorOf(j) == "spec.configuration.repositories[0].uriStyle: only applies to s3 and azure repositories");
}

TEST_CASE("Values that become paths or pgbackrest.conf lines cannot leave their place") {
  auto repo_field = [](const char* field, const json& value) {
    json j = SeedArchive();
    j["spec"]["configuration"]["repositories"][0][field] = value;
    return ErrorOf(j);
  };
  // A line break would add options of its own to pgbackrest.conf (repo1-path=/etc, say).
  CHECK(repo_field("destinationPath", "/backups\nrepo1-path=/etc") ==
        "spec.configuration.repositories[0].destinationPath: must not contain control characters or line breaks "
        "(it is written into pgbackrest.conf)");
  CHECK(repo_field("bucket", "b\rx")
            .find("spec.configuration.repositories[0].bucket: must not contain control characters") == 0);
  CHECK(repo_field("endpointURL", "minio\n:9000")
            .find("spec.configuration.repositories[0].endpointURL: must not contain") == 0);
  for (const char* escaping : {"/a/../../etc", "/..", "/a/./b", "//a", "/a//b"})
    CHECK_MESSAGE(repo_field("destinationPath", escaping).find("must not contain empty, '.' or '..' components") !=
                      std::string::npos,
                  escaping);
  json ok = SeedArchive();
  ok["spec"]["configuration"]["repositories"][0]["destinationPath"] = "/cluster-a/";
  CHECK(ParseArchive(ok).ok());
  json region = SeedArchive();
  region["spec"]["configuration"]["repositories"][0]["s3Credentials"]["region"] = "us\neast";
  CHECK(ErrorOf(region).find("s3Credentials.region: must not contain control characters") != std::string::npos);
  // Secret keys become file names under --secrets-dir.
  json key = SeedArchive();
  key["spec"]["configuration"]["repositories"][0]["encryptionKey"]["key"] = "..";
  CHECK(ErrorOf(key) == "spec.configuration.repositories[0].encryptionKey.key: '..' is not a valid Secret key");
  json ns = SeedArchive();
  ns["metadata"]["namespace"] = "../kube-system";
  CHECK(ErrorOf(ns) == "metadata.namespace: '../kube-system' is not a valid namespace");
  // A huge value is echoed cut, not whole.
  CHECK(repo_field("endpointURL", "http://" + std::string(1 << 20, 'h')).size() < 300);
  CHECK_FALSE(ParseArchiveList(std::string(100000, '[') + std::string(100000, ']')).ok());
}

TEST_CASE("ParseArchiveList accepts arrays, lists and single objects; rejects duplicates") {
  auto one = ParseArchiveList(SeedArchive().dump());
  REQUIRE(one.ok());
  CHECK(one->count("minio-store") == 1);
  auto list = ParseArchiveList(json{{"items", json::array({SeedArchive()})}}.dump());
  REQUIRE(list.ok());
  auto dup = ParseArchiveList(json::array({SeedArchive(), SeedArchive()}).dump());
  CHECK_FALSE(dup.ok());
  auto bad = ParseArchiveList("{not json");
  CHECK_FALSE(bad.ok());
  json broken = SeedArchive();
  broken["spec"]["configuration"]["compression"] = 3;
  auto named = ParseArchiveList(json::array({broken}).dump());
  REQUIRE_FALSE(named.ok());
  CHECK(std::string(named.status().message()) == "archives[0]: spec.configuration.compression: must be a string");
}
