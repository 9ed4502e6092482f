// gRPC adapter for the Operator service: SetStatusInCluster over a ClusterStatus. The validation
// and mutation calls are not advertised (CNPG's operator never calls them).
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/operator/cluster_status.h"
#include "operator.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT OperatorGrpcService final : public cnpgi::operator_::v1::Operator::Service {
 public:
  explicit OperatorGrpcService(ClusterStatus* status) : status_(status) {}

  // TYPE_SET_STATUS_IN_CLUSTER only.
  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::operator_::v1::OperatorCapabilitiesRequest*,
                               cnpgi::operator_::v1::OperatorCapabilitiesResult* response) override;
  grpc::Status SetStatusInCluster(grpc::ServerContext*, const cnpgi::operator_::v1::SetStatusInClusterRequest* request,
                                  cnpgi::operator_::v1::SetStatusInClusterResponse* response) override;

 private:
  ClusterStatus* status_;
};

}  // namespace cnpgi_pgbackrest
