#include "cnpgi_pgbackrest/reconciler/reconciler_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::reconciler::v1;

namespace {

grpc::Status Answer(const absl::StatusOr<ReconcilerResult>& result, pb::ReconcilerHooksResult* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  response->set_behavior(static_cast<pb::ReconcilerHooksResult::Behavior>(static_cast<int>(result->behavior)));
  response->set_requeue_after(result->requeue_after.count());
  return grpc::Status::OK;
}

ReconcilerRequest FromProto(const pb::ReconcilerHooksRequest& request) {
  return {request.cluster_definition(), request.resource_definition()};
}

}  // namespace

grpc::Status ReconcilerGrpcService::GetCapabilities(grpc::ServerContext*, const pb::ReconcilerHooksCapabilitiesRequest*,
                                                    pb::ReconcilerHooksCapabilitiesResult* response) {
  for (ReconciledKind k : hooks_->Kinds())
    response->add_reconciler_capabilities()->set_kind(
        static_cast<pb::ReconcilerHooksCapability::Kind>(static_cast<int>(k)));
  return grpc::Status::OK;
}

grpc::Status ReconcilerGrpcService::Pre(grpc::ServerContext*, const pb::ReconcilerHooksRequest* request,
                                        pb::ReconcilerHooksResult* response) {
  return Answer(hooks_->Pre(FromProto(*request)), response);
}

grpc::Status ReconcilerGrpcService::Post(grpc::ServerContext*, const pb::ReconcilerHooksRequest* request,
                                         pb::ReconcilerHooksResult* response) {
  return Answer(hooks_->Post(FromProto(*request)), response);
}

}  // namespace cnpgi_pgbackrest
