// gRPC adapter for the Identity capability.
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/identity/identity.h"
#include "cnpgi_pgbackrest/transport/fast_methods.h"
#include "identity.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT IdentityGrpcService final : public cnpgi::identity::v1::Identity::Service,
                                                          public FastMethods {
 public:
  explicit IdentityGrpcService(const Identity* identity) : identity_(identity) {}

  grpc::Status GetPluginMetadata(grpc::ServerContext*, const cnpgi::identity::v1::GetPluginMetadataRequest*,
                                 cnpgi::identity::v1::GetPluginMetadataResponse* response) override;
  grpc::Status GetPluginCapabilities(grpc::ServerContext*, const cnpgi::identity::v1::GetPluginCapabilitiesRequest*,
                                     cnpgi::identity::v1::GetPluginCapabilitiesResponse* response) override;
  grpc::Status Probe(grpc::ServerContext*, const cnpgi::identity::v1::ProbeRequest*,
                     cnpgi::identity::v1::ProbeResponse* response) override;

  // GetPluginMetadata, GetPluginCapabilities, Probe: answered on the completion-queue thread by the servers of
  // transport/.
  void MarkFastMethods() override;
  void ArmFastMethods(grpc::ServerCompletionQueue* cq) override;

 private:
  const Identity* identity_;
};

}  // namespace cnpgi_pgbackrest
