#include "cnpgi_pgbackrest/lifecycle/lifecycle_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::operator_lifecycle::v1;

grpc::Status LifecycleGrpcService::GetCapabilities(grpc::ServerContext*,
                                                   const pb::OperatorLifecycleCapabilitiesRequest*,
                                                   pb::OperatorLifecycleCapabilitiesResponse* response) {
  for (const auto& sub : mutation_->Subscriptions()) {
    auto* cap = response->add_lifecycle_capabilities();
    cap->set_group(sub.group);
    cap->set_kind(sub.kind);
    for (LifecycleOperation op : sub.operations)
      cap->add_operation_types()->set_type(static_cast<pb::OperatorOperationType::Type>(static_cast<int>(op)));
  }
  return grpc::Status::OK;
}

grpc::Status LifecycleGrpcService::LifecycleHook(grpc::ServerContext*, const pb::OperatorLifecycleRequest* request,
                                                 pb::OperatorLifecycleResponse* response) {
  LifecycleRequest req;
  req.operation = static_cast<LifecycleOperation>(static_cast<int>(request->operation_type().type()));
  req.cluster_definition = request->cluster_definition();
  req.object_definition = request->object_definition();
  auto patch = mutation_->Mutate(req);
  if (!patch.ok()) return ToGrpcStatus(patch.status());
  response->set_json_patch(*patch);
  return grpc::Status::OK;
}

}  // namespace cnpgi_pgbackrest
