// A gRPC server over TCP with mutual TLS, as CNPG's operator dials plugins.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/transport/unix_socket_server.h"

namespace cnpgi_pgbackrest {

struct MutualTlsOptions {
  std::string address = ":9090";  // host:port; ":port" listens on all IPv4 addresses
  std::string server_cert;        // server Secret tls.crt
  std::string server_key;         // server Secret tls.key
  std::string client_cert;        // the client certificate(s) to trust: client Secret tls.crt
};

class TlsFront;

// A gRPC server reachable only through mutual TLS 1.3.
struct CNPGI_PGBACKREST_EXPORT MutualTlsServer {
  std::unique_ptr<UnixSocketServer> grpc;  // plaintext, on a private Unix socket
  std::unique_ptr<TlsFront> front;         // TLS termination on the TCP address
  std::string private_dir;
  ~MutualTlsServer();
};

// Starts services behind options.address: TLS 1.3 only, a client certificate the client_cert file
// vouches for, certificate files re-read when they change. (gRPC 1.51's own TLS cannot require 1.3.)
CNPGI_PGBACKREST_EXPORT absl::StatusOr<std::unique_ptr<MutualTlsServer>> StartMutualTlsServer(
    const MutualTlsOptions& options, const std::vector<grpc::Service*>& services);

}  // namespace cnpgi_pgbackrest
