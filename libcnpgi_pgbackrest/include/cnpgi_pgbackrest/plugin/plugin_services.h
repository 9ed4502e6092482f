// The CNPG-I services one gRPC server mounts. Identity is derived from them, so what a host
// advertises is exactly what it serves, whether its services are ours, its own, or both.
#pragma once

#include <memory>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/identity/identity.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT PluginServices {
 public:
  explicit PluginServices(PluginMetadata metadata);
  ~PluginServices();
  PluginServices(const PluginServices&) = delete;
  PluginServices& operator=(const PluginServices&) = delete;

  // Mounts a service as the CNPG-I service `type` (advertised once however often it is added).
  // The borrowed form must outlive the server; the owned form lives as long as this object.
  void Add(PluginService type, grpc::Service* service);
  void Add(PluginService type, std::unique_ptr<grpc::Service> service);

  // The Identity service first, then the others in the order added: what a server registers.
  std::vector<grpc::Service*> All();
  // What Identity advertises: the types added, in order.
  const Identity& identity() const;

 private:
  class State;
  std::unique_ptr<State> state_;
};

}  // namespace cnpgi_pgbackrest
