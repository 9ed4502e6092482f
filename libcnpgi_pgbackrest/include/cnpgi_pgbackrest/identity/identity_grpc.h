// gRPC adapter for the Identity capability.
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/identity/identity.h"
#include "identity.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT IdentityGrpcService final : public cnpgi::identity::v1::Identity::Service {
 public:
  explicit IdentityGrpcService(const Identity* identity) : identity_(identity) {}

  grpc::Status GetPluginMetadata(grpc::ServerContext*, const cnpgi::identity::v1::GetPluginMetadataRequest*,
                                 cnpgi::identity::v1::GetPluginMetadataResponse* response) override;
  grpc::Status GetPluginCapabilities(grpc::ServerContext*, const cnpgi::identity::v1::GetPluginCapabilitiesRequest*,
                                     cnpgi::identity::v1::GetPluginCapabilitiesResponse* response) override;
  grpc::Status Probe(grpc::ServerContext*, const cnpgi::identity::v1::ProbeRequest*,
                     cnpgi::identity::v1::ProbeResponse* response) override;

 private:
  const Identity* identity_;
};

}  // namespace cnpgi_pgbackrest
