// Integration-test harness: the S3 service (RGW) and a private RGW of a test's own.
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

// --- S3 -----------------------------------------------------------------------

std::optional<S3Service> S3Service::FromEnv() {
  S3Service s;
  s.endpoint = Env("CNPGI_TEST_S3_ENDPOINT");
  if (s.endpoint.empty()) return std::nullopt;
  s.port = std::atoi(Env("CNPGI_TEST_S3_PORT", "7480").c_str());
  s.bucket = Env("CNPGI_TEST_S3_BUCKET", "pgbr");
  s.region = Env("CNPGI_TEST_S3_REGION", "us-east-1");
  s.key = Env("CNPGI_TEST_S3_KEY");
  s.secret = Env("CNPGI_TEST_S3_SECRET");
  s.ca_file = Env("CNPGI_TEST_S3_CA_FILE");
  return s;
}

namespace {
const char* kEmptySha256 = "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
}

// Query values must be percent-encoded exactly as SigV4 canonicalizes them ('/' too).
std::string UrlEncode(const std::string& in) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::vector<std::string> S3Service::ListKeys(const std::string& prefix) const {
  std::vector<std::string> keys;
  std::string token;
  for (int page = 0; page < 100; ++page) {
    std::string url = "https://" + endpoint + ":" + std::to_string(port) + "/" + bucket + "?" +
                      (token.empty() ? "" : "continuation-token=" + UrlEncode(token) + "&") +
                      "list-type=2&prefix=" + UrlEncode(prefix);
    auto r = Run({"curl", "-sS", "--fail", "--cacert", ca_file, "--aws-sigv4", "aws:amz:" + region + ":s3", "--user",
                  key + ":" + secret, "-H", kEmptySha256, url});
    REQUIRE_MESSAGE(r.exit_code == 0, "S3 list failed: " << r.err);
    std::regex key_re("<Key>([^<]*)</Key>");
    for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), key_re); it != std::sregex_iterator(); ++it)
      keys.push_back((*it)[1]);
    std::smatch m;
    if (!std::regex_search(r.out, m, std::regex("<NextContinuationToken>([^<]*)</NextContinuationToken>"))) break;
    token = m[1];
  }
  return keys;
}

std::string S3Service::GetObjectPrefix(const std::string& object_key, int bytes) const {
  std::string url = "https://" + endpoint + ":" + std::to_string(port) + "/" + bucket + "/" + object_key;
  auto r = Run({"curl", "-sS", "--fail", "--cacert", ca_file, "--aws-sigv4", "aws:amz:" + region + ":s3", "--user",
                key + ":" + secret, "-H", kEmptySha256, url});
  REQUIRE_MESSAGE(r.exit_code == 0, "S3 get failed: " << r.err);
  return r.out.substr(0, static_cast<std::size_t>(bytes));
}

// --- a private RGW ---------------------------------------------------------------

PrivateRgw::PrivateRgw() {
  RequireService(FileExists("/usr/bin/radosgw") && FileExists("/usr/bin/ceph-mon"),
                 "Ceph RGW (radosgw, ceph-mon; tools/install-deps.sh --tests installs them)");
  char tmpl[] = "/tmp/cnpgi-it-private-rgw-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  dir_ = tmpl;
  ports_env_ = {"RGW_PORT=" + std::to_string(FreeTcpPort()), "RGW_MON_PORT=" + std::to_string(FreeTcpPort()),
                "RGW_MON_V1_PORT=" + std::to_string(FreeTcpPort())};
  auto r = Script({"start", dir_});
  REQUIRE_MESSAGE(r.exit_code == 0, "a private RGW did not start: " << r.err);
  std::cerr << r.err;  // rgw.sh's closing line says how long the start took
  // DIR/env: `export CNPGI_TEST_S3_NAME=value` lines.
  std::map<std::string, std::string> env;
  std::istringstream lines(ReadFile(dir_ + "/env"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    auto eq = line.find('=');
    env[line.substr(7, eq - 7)] = line.substr(eq + 1);
  }
  service_.endpoint = env["CNPGI_TEST_S3_ENDPOINT"];
  service_.port = std::stoi(env["CNPGI_TEST_S3_PORT"]);
  service_.bucket = env["CNPGI_TEST_S3_BUCKET"];
  service_.region = env["CNPGI_TEST_S3_REGION"];
  service_.key = env["CNPGI_TEST_S3_KEY"];
  service_.secret = env["CNPGI_TEST_S3_SECRET"];
  service_.ca_file = env["CNPGI_TEST_S3_CA_FILE"];
}

// No assertion here: a program-wide instance is destroyed after the test run has ended.
PrivateRgw::~PrivateRgw() {
  RunProcess({.argv = ScriptArgv({"stop", dir_, Env("CNPGI_KEEP_SCRATCH") == "1" ? "" : "--purge"}),
              .env = InheritedEnvironment(),
              .timeout = std::chrono::minutes(1)})
      .IgnoreError();
}

std::vector<std::string> PrivateRgw::ScriptArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"env"};
  argv.insert(argv.end(), ports_env_.begin(), ports_env_.end());
  argv.push_back(std::string(CNPGI_SOURCE_DIR) + "/tests/services/rgw.sh");
  for (const auto& a : args)
    if (!a.empty()) argv.push_back(a);
  return argv;
}

ProcessResult PrivateRgw::Script(const std::vector<std::string>& args) const {
  return Run(ScriptArgv(args), std::chrono::minutes(3));
}

void PrivateRgw::StopGateway() {
  auto r = Script({"stop-gateway", dir_});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

void PrivateRgw::StartGateway() {
  auto r = Script({"start-gateway", dir_});
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
}

}  // namespace cnpgi_it
