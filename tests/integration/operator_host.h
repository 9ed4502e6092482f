// The operator-side host as CNPG's operator dials it: its certificates (as cert-manager makes them),
// the process, and a mutual-TLS channel to it.
#pragma once

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include "harness.h"
#include "operator.grpc.pb.h"

namespace cnpgi_it {

inline void Openssl(const std::string& dir, const std::string& script) {
  auto r = cnpgi_pgbackrest::RunProcess(
      {.argv = {"bash", "-c", "set -e; cd " + dir + "; " + script}, .env = cnpgi_pgbackrest::InheritedEnvironment()});
  REQUIRE(r.ok());
  REQUIRE_MESSAGE(r->exit_code == 0, r->err);
}

// A CA-signed server certificate for the Service name, and self-signed client leaves as cert-manager makes them.
inline void MakeCertificates(const std::string& dir) {
  Openssl(
      dir,
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=ca "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign 2>/dev/null;"
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=pgbackrest 2>/dev/null;"
      "printf 'subjectAltName=DNS:pgbackrest,DNS:pgbackrest.cnpg-system.svc\\nextendedKeyUsage=serverAuth\\n' > ext;"
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 "
      "-extfile ext 2>/dev/null;"
      "for c in client client2 intruder; do openssl req -x509 -newkey rsa:2048 -nodes -keyout $c.key -out $c.crt "
      "-days 2 -subj /CN=$c -addext basicConstraints=CA:FALSE -addext keyUsage=digitalSignature,keyEncipherment "
      "-addext extendedKeyUsage=clientAuth 2>/dev/null; done;"
      "cp client.crt trusted.crt");
}

struct OperatorHost {
  ScratchDir dir{"operator"};
  int port = FreeTcpPort();
  std::unique_ptr<Daemon> daemon;

  // A replica of the same Deployment mounts the same TLS Secrets: pass the first host. Archives come
  // from a file, or with `api` from that (fake) Kubernetes API, as in a Pod with its service account.
  explicit OperatorHost(const OperatorHost* same_secrets = nullptr, const FakeApiServer* api = nullptr) {
    if (same_secrets)
      Openssl(dir.path(), "cp " + same_secrets->dir.path() + "/*.crt " + same_secrets->dir.path() + "/*.key .");
    else
      MakeCertificates(dir.path());
    dir.WriteFile("archives.json",
                  R"([{"metadata":{"name":"minio-store","namespace":"default"},"spec":{"configuration":{
      "repositories":[{"bucket":"backups","endpointURL":"minio:9000","encryption":"aes-256-cbc",
        "encryptionKey":{"name":"minio","key":"ENCRYPTION_KEY"},
        "s3Credentials":{"region":"dummy","accessKeyId":{"name":"minio","key":"ACCESS_KEY_ID"},
                         "secretAccessKey":{"name":"minio","key":"ACCESS_SECRET_KEY"}}}]}}}])");
    std::vector<std::string> argv = {
        std::string(std::getenv("CNPGI_OPERATOR_BIN")),
        "operator",
        "--server-cert=" + dir / "server.crt",
        "--server-key=" + dir / "server.key",
        "--client-cert=" + dir / "trusted.crt",
        "--server-address=127.0.0.1:" + std::to_string(port),
        "--sidecar-image=ghcr.io/cnpgi-pgbackrest/sidecar:0.1.0",
    };
    if (api) {
      // The in-cluster configuration: the API's address in the environment, token and CA as mounted.
      std::vector<std::string> env = api->PodEnv();
      env.insert(env.begin(), "env");
      argv.insert(argv.begin(), env.begin(), env.end());
      argv.push_back("--service-account-dir=" + api->dir.path());
    } else {
      argv.push_back("--archives-file=" + dir / "archives.json");
    }
    daemon = std::make_unique<Daemon>(argv, dir / "operator.log", "listening");
  }
  // A channel as CNPG's operator opens it: server CA from the server Secret, client key pair, ServerName = Service
  // name.
  std::shared_ptr<grpc::Channel> Channel(const std::string& client) {
    grpc::SslCredentialsOptions tls;
    tls.pem_root_certs = ReadFile(dir / "ca.crt");
    if (!client.empty()) {
      tls.pem_private_key = ReadFile(dir / (client + ".key"));
      tls.pem_cert_chain = ReadFile(dir / (client + ".crt"));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("pgbackrest");
    return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(tls), args);
  }
  // SetStatusInCluster as CNPG calls it at the end of a reconcile loop: the json_status answered.
  std::string SetStatusInCluster(const json& cluster) {
    cnpgi::operator_::v1::SetStatusInClusterRequest request;
    request.set_cluster(cluster.dump());
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    cnpgi::operator_::v1::SetStatusInClusterResponse response;
    auto status =
        cnpgi::operator_::v1::Operator::NewStub(Channel("client"))->SetStatusInCluster(&ctx, request, &response);
    REQUIRE_MESSAGE(status.ok(), status.error_message());
    return response.json_status();
  }
};

}  // namespace cnpgi_it
