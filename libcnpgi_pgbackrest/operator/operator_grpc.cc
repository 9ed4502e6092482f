#include "cnpgi_pgbackrest/operator/operator_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::operator_::v1;

grpc::Status OperatorGrpcService::GetCapabilities(grpc::ServerContext*, const pb::OperatorCapabilitiesRequest*,
                                                  pb::OperatorCapabilitiesResult* response) {
  response->add_capabilities()->mutable_rpc()->set_type(pb::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER);
  return grpc::Status::OK;
}

grpc::Status OperatorGrpcService::SetStatusInCluster(grpc::ServerContext*, const pb::SetStatusInClusterRequest* request,
                                                     pb::SetStatusInClusterResponse* response) {
  auto status = status_->Compute(request->cluster());
  if (!status.ok()) return ToGrpcStatus(status.status());
  response->set_json_status(*status);
  return grpc::Status::OK;
}

}  // namespace cnpgi_pgbackrest
