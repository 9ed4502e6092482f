// gRPC adapter for the reconciler hooks capability.
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/reconciler/reconciler_hooks.h"
#include "reconciler.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT ReconcilerGrpcService final : public cnpgi::reconciler::v1::ReconcilerHooks::Service {
 public:
  explicit ReconcilerGrpcService(ReconcilerHooks* hooks) : hooks_(hooks) {}

  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::reconciler::v1::ReconcilerHooksCapabilitiesRequest*,
                               cnpgi::reconciler::v1::ReconcilerHooksCapabilitiesResult* response) override;
  grpc::Status Pre(grpc::ServerContext*, const cnpgi::reconciler::v1::ReconcilerHooksRequest* request,
                   cnpgi::reconciler::v1::ReconcilerHooksResult* response) override;
  grpc::Status Post(grpc::ServerContext*, const cnpgi::reconciler::v1::ReconcilerHooksRequest* request,
                    cnpgi::reconciler::v1::ReconcilerHooksResult* response) override;

 private:
  ReconcilerHooks* hooks_;
};

}  // namespace cnpgi_pgbackrest
