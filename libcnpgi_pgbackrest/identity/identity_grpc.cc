#include "cnpgi_pgbackrest/identity/identity_grpc.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"
#include "transport/fast_unary.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::identity::v1;

grpc::Status IdentityGrpcService::GetPluginMetadata(grpc::ServerContext*, const pb::GetPluginMetadataRequest*,
                                                    pb::GetPluginMetadataResponse* response) {
  PluginMetadata m = identity_->Metadata();
  response->set_name(m.name);
  response->set_version(m.version);
  response->set_display_name(m.display_name);
  response->set_description(m.description);
  response->set_project_url(m.project_url);
  response->set_repository_url(m.repository_url);
  response->set_license(m.license);
  response->set_license_url(m.license_url);
  response->set_maturity(m.maturity);
  response->set_vendor(m.vendor);
  for (const auto& [k, v] : m.manifest) (*response->mutable_manifest())[k] = v;
  return grpc::Status::OK;
}

grpc::Status IdentityGrpcService::GetPluginCapabilities(grpc::ServerContext*, const pb::GetPluginCapabilitiesRequest*,
                                                        pb::GetPluginCapabilitiesResponse* response) {
  for (PluginService s : identity_->Services())
    response->add_capabilities()->mutable_service()->set_type(
        static_cast<pb::PluginCapability::Service::Type>(static_cast<int>(s)));
  return grpc::Status::OK;
}

grpc::Status IdentityGrpcService::Probe(grpc::ServerContext*, const pb::ProbeRequest*, pb::ProbeResponse* response) {
  absl::Status s = identity_->Probe();
  if (!s.ok()) return ToGrpcStatus(s);
  response->set_ready(true);
  return grpc::Status::OK;
}

// Method numbers are the order of the rpc lines in the service's .proto.
void IdentityGrpcService::MarkFastMethods() {
  MarkMethodAsync(0);  // GetPluginMetadata
  MarkMethodAsync(1);  // GetPluginCapabilities
  MarkMethodAsync(2);  // Probe
}

void IdentityGrpcService::ArmFastMethods(grpc::ServerCompletionQueue* cq) {
  ArmFastUnary(this, cq, 0, &IdentityGrpcService::RequestAsyncUnary<pb::GetPluginMetadataRequest>,
               &IdentityGrpcService::GetPluginMetadata);
  ArmFastUnary(this, cq, 1, &IdentityGrpcService::RequestAsyncUnary<pb::GetPluginCapabilitiesRequest>,
               &IdentityGrpcService::GetPluginCapabilities);
  ArmFastUnary(this, cq, 2, &IdentityGrpcService::RequestAsyncUnary<pb::ProbeRequest>, &IdentityGrpcService::Probe);
}

}  // namespace cnpgi_pgbackrest
