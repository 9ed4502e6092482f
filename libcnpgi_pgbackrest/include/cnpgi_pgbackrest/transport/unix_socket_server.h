// A gRPC server on a Unix socket, as CNPG's instance manager expects under /plugins.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Starts services on socket_path (mode 0600): a stale socket is replaced, a live one is refused.
CNPGI_PGBACKREST_EXPORT absl::StatusOr<std::unique_ptr<grpc::Server>> StartUnixSocketServer(
    const std::string& socket_path, const std::vector<grpc::Service*>& services);

// OK when a server answers Identity calls on socket_path within the timeout.
CNPGI_PGBACKREST_EXPORT absl::Status ProbeUnixSocket(const std::string& socket_path, std::chrono::milliseconds timeout);

}  // namespace cnpgi_pgbackrest
