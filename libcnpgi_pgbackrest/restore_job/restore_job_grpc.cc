#include "cnpgi_pgbackrest/restore_job/restore_job_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"
#include "transport/fast_unary.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::wal::v1;

grpc::Status RestoreJobGrpcService::GetCapabilities(grpc::ServerContext*, const pb::RestoreJobHooksCapabilitiesRequest*,
                                                    pb::RestoreJobHooksCapabilitiesResult* response) {
  response->add_capabilities()->set_kind(pb::RestoreJobHooksCapability::KIND_RESTORE);
  return grpc::Status::OK;
}

grpc::Status RestoreJobGrpcService::Restore(grpc::ServerContext* context, const pb::RestoreRequest* request,
                                            pb::RestoreResponse* response) {
  RestoreJobRequest req;
  req.cluster_definition = request->cluster_definition();
  if (request->has_check_empty_wal_archive()) req.check_empty_wal_archive = request->check_empty_wal_archive();
  req.cancelled = CancelledBy(context);
  auto result = restore_->Restore(req);
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_restore_config(result->restore_config);
  for (const auto& e : result->envs) response->add_envs(e);
  return grpc::Status::OK;
}

// Method numbers are the order of the rpc lines in the service's .proto.
void RestoreJobGrpcService::MarkFastMethods() {
  MarkMethodAsync(0);  // GetCapabilities
}

void RestoreJobGrpcService::ArmFastMethods(grpc::ServerCompletionQueue* cq) {
  ArmFastUnary(this, cq, 0, &RestoreJobGrpcService::RequestAsyncUnary<pb::RestoreJobHooksCapabilitiesRequest>,
               &RestoreJobGrpcService::GetCapabilities);
}

}  // namespace cnpgi_pgbackrest
