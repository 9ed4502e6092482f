#include "cnpgi_pgbackrest/plugin/plugin_services.h"

#include <algorithm>

#include "cnpgi_pgbackrest/identity/identity_grpc.h"

namespace cnpgi_pgbackrest {

class PluginServices::State {
 public:
  explicit State(PluginMetadata metadata) : identity(metadata, {}), metadata(std::move(metadata)) {}
  // Rebuilt with every Add (before serving), so Identity advertises exactly what is mounted.
  StaticIdentity identity;
  IdentityGrpcService identity_service{&identity};
  PluginMetadata metadata;
  std::vector<PluginService> types;
  std::vector<grpc::Service*> services;
  std::vector<std::unique_ptr<grpc::Service>> owned;
};

PluginServices::PluginServices(PluginMetadata metadata) : state_(std::make_unique<State>(std::move(metadata))) {}
PluginServices::~PluginServices() = default;

void PluginServices::Add(PluginService type, grpc::Service* service) {
  if (std::find(state_->types.begin(), state_->types.end(), type) == state_->types.end()) {
    state_->types.push_back(type);
    state_->identity = StaticIdentity(state_->metadata, state_->types);
  }
  if (std::find(state_->services.begin(), state_->services.end(), service) == state_->services.end())
    state_->services.push_back(service);
}

void PluginServices::Add(PluginService type, std::unique_ptr<grpc::Service> service) {
  Add(type, service.get());
  state_->owned.push_back(std::move(service));
}

std::vector<grpc::Service*> PluginServices::All() {
  std::vector<grpc::Service*> all = {&state_->identity_service};
  all.insert(all.end(), state_->services.begin(), state_->services.end());
  return all;
}

const Identity& PluginServices::identity() const { return state_->identity; }

}  // namespace cnpgi_pgbackrest
