#include "kubernetes/client.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <curl/curl.h>

#include "absl/cleanup/cleanup.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "common/json.h"

namespace cnpgi_pgbackrest {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

absl::StatusCode CodeForHttp(long http) {
  switch (http) {
    case 400:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 409:
      return absl::StatusCode::kAborted;
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 429:
      return absl::StatusCode::kResourceExhausted;
    default:
      return http >= 500 ? absl::StatusCode::kUnavailable : absl::StatusCode::kUnknown;
  }
}

}  // namespace

absl::StatusOr<KubernetesConfig> KubernetesConfig::InCluster(const std::string& account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !port)
    return absl::FailedPreconditionError(
        "not running in a Kubernetes Pod: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set");
  KubernetesConfig c;
  std::string h = host;
  c.server = absl::StrCat("https://", h.find(':') != std::string::npos ? "[" + h + "]" : h, ":", port);
  c.ca_file = account_dir + "/ca.crt";
  c.token_file = account_dir + "/token";
  return c;
}

absl::StatusOr<nlohmann::json> KubernetesClient::Get(const std::string& path) const {
  return Request("GET", path, "", "");
}

absl::StatusOr<nlohmann::json> KubernetesClient::MergePatch(const std::string& path,
                                                            const nlohmann::json& patch) const {
  return Request("PATCH", path, patch.dump(), "application/merge-patch+json");
}

absl::StatusOr<nlohmann::json> KubernetesClient::Create(const std::string& collection_path,
                                                        const nlohmann::json& object) const {
  return Request("POST", collection_path, object.dump(), "application/json");
}

absl::StatusOr<nlohmann::json> KubernetesClient::Replace(const std::string& path, const nlohmann::json& object) const {
  return Request("PUT", path, object.dump(), "application/json");
}

absl::StatusOr<nlohmann::json> KubernetesClient::Request(const std::string& method, const std::string& path,
                                                         const std::string& body,
                                                         const std::string& content_type) const {
  std::ifstream token_in(config_.token_file);
  if (!token_in)
    return absl::FailedPreconditionError(absl::StrCat("cannot read the service account token ", config_.token_file));
  std::stringstream token;
  token << token_in.rdbuf();
  std::string bearer = absl::StrCat("Authorization: Bearer ", absl::StripAsciiWhitespace(token.str()));

  CURL* curl = curl_easy_init();
  if (!curl) return absl::InternalError("curl_easy_init failed");
  absl::Cleanup cleanup_curl = [curl] { curl_easy_cleanup(curl); };
  std::string url = config_.server + path;
  std::string response;
  curl_slist* headers = nullptr;
  absl::Cleanup free_headers = [&headers] { curl_slist_free_all(headers); };
  headers = curl_slist_append(headers, bearer.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  if (!content_type.empty()) headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  if (!body.empty()) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  CURLcode rc = curl_easy_perform(curl);
  long http = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http);

  std::string what = absl::StrCat(method, " ", path);
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return absl::DeadlineExceededError(
        absl::StrCat("Kubernetes API ", what, ": no answer within ", config_.timeout.count(), " ms"));
  if (rc != CURLE_OK)
    return absl::UnavailableError(absl::StrCat("Kubernetes API ", what, ": ", curl_easy_strerror(rc)));
  auto doc = ParseJson(response, absl::StrCat("Kubernetes API ", what, ": the answer"));
  if (http >= 200 && http < 300) {
    if (!doc.ok()) return absl::InternalError(doc.status().message());
    return *doc;
  }
  // The API server explains failures in a Status object.
  std::string message = doc.ok() ? StringAt(*doc, "message") : std::string();
  if (message.empty()) message = response.substr(0, 300);
  return absl::Status(CodeForHttp(http), absl::StrCat("Kubernetes API ", what, ": HTTP ", http, ": ", message));
}

}  // namespace cnpgi_pgbackrest
