#include "cnpgi_pgbackrest/plugin/plugin_services.h"

#include <algorithm>

#include "cnpgi_pgbackrest/identity/identity_grpc.h"

namespace cnpgi_pgbackrest {
namespace {

// The advertised list grows with every Add: Identity is built from what is
// mounted.
class MountedIdentity final : public Identity {
 public:
  MountedIdentity(PluginMetadata metadata, std::vector<PluginService> types)
      : metadata_(std::move(metadata)), types_(std::move(types)) {}
  PluginMetadata Metadata() const override { return metadata_; }
  std::vector<PluginService> Services() const override { return types_; }
  absl::Status Probe() const override { return absl::OkStatus(); }
  void Advertise(PluginService type) {
    if (std::find(types_.begin(), types_.end(), type) == types_.end()) types_.push_back(type);
  }

 private:
  PluginMetadata metadata_;
  std::vector<PluginService> types_;
};

}  // namespace

class PluginServices::State {
 public:
  explicit State(PluginMetadata metadata) : identity(std::move(metadata), {}), identity_service(&identity) {}
  MountedIdentity identity;
  IdentityGrpcService identity_service;
  std::vector<grpc::Service*> services;
  std::vector<std::unique_ptr<grpc::Service>> owned;
};

PluginServices::PluginServices(PluginMetadata metadata) : state_(std::make_unique<State>(std::move(metadata))) {}
PluginServices::~PluginServices() = default;

void PluginServices::Add(PluginService type, grpc::Service* service) {
  state_->identity.Advertise(type);
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
