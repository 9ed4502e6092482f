// Integration-test harness: the local stand-in for kube-apiserver.
#include <doctest/doctest.h>

#include "harness.h"

namespace cnpgi_it {

FakeApiServer::FakeApiServer(const json& archives) {
  auto certs =
      cnpgi_pgbackrest::RunProcess({.argv = {"bash", "-c",
                                             "set -e; cd " + dir.path() +
                                                 "; openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out "
                                                 "ca.crt -days 2 -subj /CN=kubernetes -addext "
                                                 "subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null; echo token-1 "
                                                 "> token"},
                                    .env = cnpgi_pgbackrest::InheritedEnvironment()});
  REQUIRE((certs.ok() && certs->exit_code == 0));
  dir.WriteFile("archives.json", archives.dump());
  std::string script = std::string(CNPGI_SOURCE_DIR) + "/tests/integration/fake_apiserver.py";
  daemon_ = std::make_unique<Daemon>(std::vector<std::string>{"python3", script, std::to_string(port), dir / "ca.crt",
                                                              dir / "ca.key", dir / "token", dir / "archives.json"},
                                     dir / "apiserver.log", "ready");
}

cnpgi_pgbackrest::KubernetesConfig FakeApiServer::Config() const {
  return {"https://127.0.0.1:" + std::to_string(port), dir / "ca.crt", dir / "token", std::chrono::seconds(2)};
}

std::vector<std::string> FakeApiServer::PodEnv() const {
  return {"KUBERNETES_SERVICE_HOST=127.0.0.1", "KUBERNETES_SERVICE_PORT=" + std::to_string(port)};
}

}  // namespace cnpgi_it
