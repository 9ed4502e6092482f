// fake_apiserver.py started for a test: a local HTTPS server answering like kube-apiserver (no real
// API server can run here), with its CA, a bearer token file and a client configuration for it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "harness.h"
#include "kubernetes/client.h"

namespace cnpgi_it {

struct FakeApiServer {
  ScratchDir dir{"apiserver"};
  int port = FreeTcpPort();
  std::unique_ptr<Daemon> daemon;

  FakeApiServer() {
    auto certs = cnpgi_pgbackrest::RunProcess(
        {.argv = {"bash", "-c",
                  "set -e; cd " + dir.path() +
                      "; openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt "
                      "-days 2 -subj /CN=kubernetes -addext subjectAltName=DNS:localhost,IP:127.0.0.1 "
                      "2>/dev/null; echo token-1 > token"},
         .env = cnpgi_pgbackrest::InheritedEnvironment()});
    REQUIRE((certs.ok() && certs->exit_code == 0));
    std::string script = std::string(CNPGI_SOURCE_DIR) + "/tests/integration/fake_apiserver.py";
    daemon = std::make_unique<Daemon>(std::vector<std::string>{"python3", script, std::to_string(port), dir / "ca.crt",
                                                               dir / "ca.key", dir / "token"},
                                      dir / "apiserver.log", "ready");
  }
  void Stop() { daemon.reset(); }
  cnpgi_pgbackrest::KubernetesConfig Config() const {
    return {"https://127.0.0.1:" + std::to_string(port), dir / "ca.crt", dir / "token", std::chrono::seconds(2)};
  }
  // The directory a Pod's service account is mounted at (token, ca.crt), as the in-cluster configuration reads it.
  std::string ServiceAccountDir() const { return dir.path(); }
};

}  // namespace cnpgi_it
