// gRPC adapter for the Backup capability.
#pragma once

#include "backup.grpc.pb.h"
#include "cnpgi_pgbackrest/backup/backup.h"
#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/transport/fast_methods.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT BackupGrpcService final : public cnpgi::backup::v1::Backup::Service, public FastMethods {
 public:
  explicit BackupGrpcService(cnpgi_pgbackrest::Backup* backup) : backup_(backup) {}

  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::backup::v1::BackupCapabilitiesRequest*,
                               cnpgi::backup::v1::BackupCapabilitiesResult* response) override;
  grpc::Status Backup(grpc::ServerContext* context, const cnpgi::backup::v1::BackupRequest* request,
                      cnpgi::backup::v1::BackupResult* response) override;

  // GetCapabilities: answered on the completion-queue thread by the servers of transport/.
  void MarkFastMethods() override;
  void ArmFastMethods(grpc::ServerCompletionQueue* cq) override;

 private:
  cnpgi_pgbackrest::Backup* backup_;
};

}  // namespace cnpgi_pgbackrest
