// The one place where library statuses become gRPC statuses.
#pragma once

#include <functional>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Same code, same message: CNPG shows the message to users (Backup.status.error, Cluster conditions).
CNPGI_PGBACKREST_EXPORT grpc::Status ToGrpcStatus(const absl::Status& status);

// A cancellation check for long calls: true once the client went away.
CNPGI_PGBACKREST_EXPORT std::function<bool()> CancelledBy(grpc::ServerContext* context);

}  // namespace cnpgi_pgbackrest
