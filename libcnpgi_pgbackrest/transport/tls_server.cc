#include "cnpgi_pgbackrest/transport/tls_server.h"

#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cnpgi_pgbackrest/transport/unix_socket_server.h"
#include "common/status_macros.h"
#include "transport/tls_front.h"

namespace cnpgi_pgbackrest {

MutualTlsServer::~MutualTlsServer() {
  front.reset();
  if (grpc) grpc->server().Shutdown();
  std::error_code ec;
  if (!private_dir.empty()) std::filesystem::remove_all(private_dir, ec);
}

absl::StatusOr<std::unique_ptr<MutualTlsServer>> StartMutualTlsServer(const MutualTlsOptions& options,
                                                                      const std::vector<grpc::Service*>& services) {
  for (const auto& [flag, path] :
       {std::pair{"--server-cert", options.server_cert}, std::pair{"--server-key", options.server_key},
        std::pair{"--client-cert", options.client_cert}}) {
    if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(flag, " is required"));
    if (access(path.c_str(), R_OK) != 0) return absl::NotFoundError(absl::StrCat(flag, " ", path, " cannot be read"));
  }
  auto server = std::make_unique<MutualTlsServer>();
  std::string tmpl = (std::filesystem::temp_directory_path() / "cnpgi-operator-XXXXXX").string();
  if (!mkdtemp(tmpl.data()))
    return absl::PermissionDeniedError("cannot create a private directory for the gRPC socket");
  server->private_dir = tmpl;
  ASSIGN_OR_RETURN(auto grpc_server, StartUnixSocketServer(tmpl + "/grpc.sock", services));
  server->grpc = std::move(grpc_server);
  auto front = TlsFront::Start({.address = options.address,
                                .server_cert = options.server_cert,
                                .server_key = options.server_key,
                                .client_cert = options.client_cert,
                                .backend = tmpl + "/grpc.sock"});
  if (!front.ok()) return front.status();
  server->front = std::move(*front);
  return server;
}

}  // namespace cnpgi_pgbackrest
