#include "cnpgi_pgbackrest/transport/grpc_status.h"

#include <string>

#include "common/text.h"

namespace cnpgi_pgbackrest {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl and gRPC share the canonical code numbers. The message travels as metadata, which
  // clients cap (8 KiB by default): a longer one would hide the reason behind "metadata size exceeds limit".
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), CappedMessage(status.message()));
}

std::function<bool()> CancelledBy(grpc::ServerContext* context) {
  return [context] { return context->IsCancelled(); };
}

}  // namespace cnpgi_pgbackrest
