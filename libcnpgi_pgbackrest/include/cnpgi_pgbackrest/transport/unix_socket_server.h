// A gRPC server on a Unix socket, as CNPG's instance manager expects under /plugins.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// A running gRPC server and the completion-queue thread that answers its services' fast methods
// (transport/fast_methods.h). Destroying it shuts the server down, then ends the thread.
class CNPGI_PGBACKREST_EXPORT UnixSocketServer {
 public:
  UnixSocketServer(std::unique_ptr<grpc::Server> server, std::unique_ptr<grpc::ServerCompletionQueue> cq);
  ~UnixSocketServer();
  UnixSocketServer(const UnixSocketServer&) = delete;
  UnixSocketServer& operator=(const UnixSocketServer&) = delete;
  grpc::Server& server() { return *server_; }

 private:
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread fast_;
};

// Starts services on socket_path (mode 0600): a stale socket is replaced, a live one is refused.
CNPGI_PGBACKREST_EXPORT absl::StatusOr<std::unique_ptr<UnixSocketServer>> StartUnixSocketServer(
    const std::string& socket_path, const std::vector<grpc::Service*>& services);

// OK when a server answers Identity calls on socket_path within the timeout.
CNPGI_PGBACKREST_EXPORT absl::Status ProbeUnixSocket(const std::string& socket_path, std::chrono::milliseconds timeout);

}  // namespace cnpgi_pgbackrest
