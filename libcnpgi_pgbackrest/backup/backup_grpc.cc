#include "cnpgi_pgbackrest/backup/backup_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"
#include "transport/fast_unary.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::backup::v1;

grpc::Status BackupGrpcService::GetCapabilities(grpc::ServerContext*, const pb::BackupCapabilitiesRequest*,
                                                pb::BackupCapabilitiesResult* response) {
  response->add_capabilities()->mutable_rpc()->set_type(pb::BackupCapability::RPC::TYPE_BACKUP);
  return grpc::Status::OK;
}

grpc::Status BackupGrpcService::Backup(grpc::ServerContext* context, const pb::BackupRequest* request,
                                       pb::BackupResult* response) {
  BackupRequest req;
  req.cluster_definition = request->cluster_definition();
  req.backup_definition = request->backup_definition();
  for (const auto& [k, v] : request->parameters()) req.parameters[k] = v;
  req.cancelled = CancelledBy(context);
  auto result = backup_->Run(req);
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_backup_id(result->backup_id);
  response->set_backup_name(result->backup_name);
  response->set_started_at(result->started_at);
  response->set_stopped_at(result->stopped_at);
  response->set_begin_wal(result->begin_wal);
  response->set_end_wal(result->end_wal);
  response->set_begin_lsn(result->begin_lsn);
  response->set_end_lsn(result->end_lsn);
  response->set_backup_label_file(result->backup_label_file);
  response->set_tablespace_map_file(result->tablespace_map_file);
  response->set_instance_id(result->instance_id);
  response->set_online(result->online);
  for (const auto& [k, v] : result->metadata) (*response->mutable_metadata())[k] = v;
  return grpc::Status::OK;
}

// Method numbers are the order of the rpc lines in the service's .proto.
void BackupGrpcService::MarkFastMethods() {
  MarkMethodAsync(0);  // GetCapabilities
}

void BackupGrpcService::ArmFastMethods(grpc::ServerCompletionQueue* cq) {
  ArmFastUnary(this, cq, 0, &BackupGrpcService::RequestAsyncUnary<pb::BackupCapabilitiesRequest>,
               &BackupGrpcService::GetCapabilities);
}

}  // namespace cnpgi_pgbackrest
