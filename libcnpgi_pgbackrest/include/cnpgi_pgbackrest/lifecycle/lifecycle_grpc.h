// gRPC adapter for the lifecycle capability (OperatorLifecycle service).
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/lifecycle/lifecycle.h"
#include "operator_lifecycle.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT LifecycleGrpcService final
    : public cnpgi::operator_lifecycle::v1::OperatorLifecycle::Service {
 public:
  explicit LifecycleGrpcService(LifecycleMutation* mutation) : mutation_(mutation) {}

  grpc::Status GetCapabilities(grpc::ServerContext*,
                               const cnpgi::operator_lifecycle::v1::OperatorLifecycleCapabilitiesRequest*,
                               cnpgi::operator_lifecycle::v1::OperatorLifecycleCapabilitiesResponse* response) override;
  grpc::Status LifecycleHook(grpc::ServerContext*,
                             const cnpgi::operator_lifecycle::v1::OperatorLifecycleRequest* request,
                             cnpgi::operator_lifecycle::v1::OperatorLifecycleResponse* response) override;

 private:
  LifecycleMutation* mutation_;
};

}  // namespace cnpgi_pgbackrest
