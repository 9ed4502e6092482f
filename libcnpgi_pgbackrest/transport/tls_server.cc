#include "transport/tls_server.h"

#include <unistd.h>


#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cnpgi_pgbackrest {

absl::StatusOr<std::unique_ptr<grpc::Server>> StartMutualTlsServer(const MutualTlsOptions& options,
                                                                  const std::vector<grpc::Service*>& services) {
  for (const auto& [flag, path] : {std::pair{"--server-cert", options.server_cert},
                                   std::pair{"--server-key", options.server_key},
                                   std::pair{"--client-cert", options.client_cert}}) {
    if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is required"));
    if (access(path.c_str(), R_OK) != 0)
      return absl::NotFoundError(absl::StrCat(flag, " ", path, " cannot be read"));
  }
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      options.server_key, options.server_cert, options.client_cert,
      static_cast<unsigned int>(options.refresh.count()));
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_root_certs();
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  std::string address = options.address;
  if (!address.empty() && address.front() == ':') address = "0.0.0.0" + address;
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(address, grpc::experimental::TlsServerCredentials(tls));
  for (grpc::Service* s : services) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " (in use?)"));
  return server;
}

}  // namespace cnpgi_pgbackrest
