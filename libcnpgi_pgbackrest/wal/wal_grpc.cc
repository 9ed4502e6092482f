#include "cnpgi_pgbackrest/wal/wal_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"
#include "transport/fast_unary.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::wal::v1;

grpc::Status WalGrpcService::GetCapabilities(grpc::ServerContext*, const pb::WALCapabilitiesRequest*,
                                             pb::WALCapabilitiesResult* response) {
  if (archive_) response->add_capabilities()->mutable_rpc()->set_type(pb::WALCapability::RPC::TYPE_ARCHIVE_WAL);
  if (restore_) response->add_capabilities()->mutable_rpc()->set_type(pb::WALCapability::RPC::TYPE_RESTORE_WAL);
  return grpc::Status::OK;
}

grpc::Status WalGrpcService::Archive(grpc::ServerContext* context, const pb::WALArchiveRequest* request,
                                     pb::WALArchiveResult*) {
  if (!archive_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "WAL archiving is not served here");
  WalArchiveRequest req;
  req.cluster_definition = request->cluster_definition();
  req.source_file_name = request->source_file_name();
  if (request->has_check_empty_wal_archive()) req.check_empty_wal_archive = request->check_empty_wal_archive();
  req.cancelled = CancelledBy(context);
  return ToGrpcStatus(archive_->Archive(req));
}

grpc::Status WalGrpcService::Restore(grpc::ServerContext* context, const pb::WALRestoreRequest* request,
                                     pb::WALRestoreResult*) {
  if (!restore_) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "WAL restore is not served here");
  WalRestoreRequest req;
  req.cluster_definition = request->cluster_definition();
  req.source_wal_name = request->source_wal_name();
  req.destination_file_name = request->destination_file_name();
  req.mode = static_cast<WalRestoreMode>(static_cast<int>(request->mode()));
  req.cancelled = CancelledBy(context);
  return ToGrpcStatus(restore_->Restore(req));
}

// Method numbers are the order of the rpc lines in the service's .proto.
void WalGrpcService::MarkFastMethods() {
  MarkMethodAsync(0);  // GetCapabilities
}

void WalGrpcService::ArmFastMethods(grpc::ServerCompletionQueue* cq) {
  ArmFastUnary(this, cq, 0, &WalGrpcService::RequestAsyncUnary<pb::WALCapabilitiesRequest>,
               &WalGrpcService::GetCapabilities);
}

}  // namespace cnpgi_pgbackrest
