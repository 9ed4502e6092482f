// Integration-test harness: the Azure service (Azurite) and its Archive fixture.
#include <cstdlib>

#include <doctest/doctest.h>

#include "absl/strings/str_split.h"

#include "harness.h"
#include "harness_internal.h"

namespace cnpgi_it {
using namespace internal;

std::optional<AzureService> AzureService::FromEnv() {
  AzureService a;
  a.endpoint = Env("CNPGI_TEST_AZURE_ENDPOINT");
  if (a.endpoint.empty()) return std::nullopt;
  a.port = std::atoi(Env("CNPGI_TEST_AZURE_PORT", "10000").c_str());
  a.account = Env("CNPGI_TEST_AZURE_ACCOUNT");
  a.key = Env("CNPGI_TEST_AZURE_KEY");
  a.container = Env("CNPGI_TEST_AZURE_CONTAINER", "pgbr");
  a.ca_file = Env("CNPGI_TEST_AZURE_CA_FILE");
  a.dir = Env("CNPGI_TEST_AZURE_DIR");
  return a;
}

namespace {
// azurite.sh signs its requests with the account key (Shared Key): one implementation of the
// signature, shared by the service's own start-up checks and the tests.
ProcessResult AzuriteScript(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {std::string(CNPGI_SOURCE_DIR) + "/tests/services/azurite.sh"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = Run(argv, std::chrono::minutes(1));
  REQUIRE_MESSAGE(r.exit_code == 0, "azurite.sh " << args[0] << " failed: " << r.err);
  return r;
}
}  // namespace

std::vector<std::string> AzureService::ListBlobs(const std::string& prefix) const {
  return absl::StrSplit(AzuriteScript({"ls", dir, prefix}).out, '\n', absl::SkipEmpty());
}

std::string AzureService::GetBlobPrefix(const std::string& blob, int bytes) const {
  return AzuriteScript({"head", dir, blob, std::to_string(bytes)}).out;
}

json AzureArchive(const std::string& name, const AzureService& azure, const std::string& path) {
  return ArchiveObject(name,
                       {{"destinationPath", path},
                        {"bucket", azure.container},
                        {"endpointURL", azure.endpoint + ":" + std::to_string(azure.port)},
                        {"endpointCA", {{"name", "azure-ca"}, {"key", "ca.crt"}}},
                        {"azureCredentials",
                         {{"keyType", "shared"},
                          {"account", {{"name", "azure-creds"}, {"key", "AZURE_STORAGE_ACCOUNT"}}},
                          {"key", {{"name", "azure-creds"}, {"key", "AZURE_STORAGE_KEY"}}},
                          {"uriStyle", "path"}}}},
                       "zst");
}

std::vector<std::string> AzureSecretEnv(const AzureService& azure, const std::string& key) {
  return {"CNPGI_SECRET_azure-creds_AZURE_STORAGE_ACCOUNT=" + azure.account,
          "CNPGI_SECRET_azure-creds_AZURE_STORAGE_KEY=" + key,
          "CNPGI_SECRET_azure-ca_ca.crt=" + ReadFile(azure.ca_file)};
}

}  // namespace cnpgi_it
