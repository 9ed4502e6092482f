// A gRPC server over TCP with mutual TLS, as CNPG's operator dials plugins.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace cnpgi_pgbackrest {

struct MutualTlsOptions {
  std::string address = ":9090";  // host:port; ":port" listens on all IPv4 addresses
  std::string server_cert;         // server Secret tls.crt
  std::string server_key;          // server Secret tls.key
  std::string client_cert;         // the client certificate(s) to trust: client Secret tls.crt
  std::chrono::seconds refresh{10};  // how often changed files are picked up (rotation without restart)
};

// Starts services on options.address; clients must present a certificate that chains to client_cert.
// TLS 1.3 only is NOT enforced yet: gRPC 1.51 sets a TLS 1.2 minimum on its own SSL contexts and has no
// public option to raise it (CNPG's client always negotiates 1.3).
absl::StatusOr<std::unique_ptr<grpc::Server>> StartMutualTlsServer(const MutualTlsOptions& options,
                                                                  const std::vector<grpc::Service*>& services);

}  // namespace cnpgi_pgbackrest
