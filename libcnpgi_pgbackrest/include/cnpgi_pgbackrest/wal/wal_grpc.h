// gRPC adapter for the WAL capability (archive and restore).
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/transport/fast_methods.h"
#include "cnpgi_pgbackrest/wal/wal_archive.h"
#include "cnpgi_pgbackrest/wal/wal_restore.h"
#include "wal.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT WalGrpcService final : public cnpgi::wal::v1::WAL::Service, public FastMethods {
 public:
  // Either may be null: only what is given is advertised.
  WalGrpcService(WalArchive* archive, WalRestore* restore) : archive_(archive), restore_(restore) {}

  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::wal::v1::WALCapabilitiesRequest*,
                               cnpgi::wal::v1::WALCapabilitiesResult* response) override;
  grpc::Status Archive(grpc::ServerContext* context, const cnpgi::wal::v1::WALArchiveRequest* request,
                       cnpgi::wal::v1::WALArchiveResult*) override;
  grpc::Status Restore(grpc::ServerContext* context, const cnpgi::wal::v1::WALRestoreRequest* request,
                       cnpgi::wal::v1::WALRestoreResult*) override;

  // GetCapabilities: answered on the completion-queue thread by the servers of transport/.
  void MarkFastMethods() override;
  void ArmFastMethods(grpc::ServerCompletionQueue* cq) override;

 private:
  WalArchive* archive_;
  WalRestore* restore_;
};

}  // namespace cnpgi_pgbackrest
