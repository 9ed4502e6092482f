// gRPC adapter for the RestoreJobHooks capability.
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/restore_job/restore_job.h"
#include "cnpgi_pgbackrest/transport/fast_methods.h"
#include "restore_job.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT RestoreJobGrpcService final : public cnpgi::wal::v1::RestoreJobHooks::Service,
                                                            public FastMethods {
 public:
  explicit RestoreJobGrpcService(RestoreJob* restore) : restore_(restore) {}

  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::wal::v1::RestoreJobHooksCapabilitiesRequest*,
                               cnpgi::wal::v1::RestoreJobHooksCapabilitiesResult* response) override;
  grpc::Status Restore(grpc::ServerContext* context, const cnpgi::wal::v1::RestoreRequest* request,
                       cnpgi::wal::v1::RestoreResponse* response) override;

  // GetCapabilities: answered on the completion-queue thread by the servers of transport/.
  void MarkFastMethods() override;
  void ArmFastMethods(grpc::ServerCompletionQueue* cq) override;

 private:
  RestoreJob* restore_;
};

}  // namespace cnpgi_pgbackrest
