// Identity capability: who the plugin is and which CNPG-I services this process serves.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Values equal PluginCapability.Service.Type on the wire.
enum class PluginService {
  kOperator = 1,
  kWal = 2,
  kBackup = 3,
  kLifecycle = 4,
  kReconcilerHooks = 5,
  kRestoreJob = 6,
  kPostgres = 7,
  kInstanceSidecarInjection = 8,
  kInstanceJobSidecarInjection = 9,
  kMetrics = 10,
};

struct PluginMetadata {
  std::string name;
  std::string version;
  std::string display_name;
  std::string description;
  std::string project_url;
  std::string repository_url;
  std::string license;
  std::string license_url;
  std::string maturity;
  std::string vendor;
  std::map<std::string, std::string> manifest;
};

class CNPGI_PGBACKREST_EXPORT Identity {
 public:
  virtual ~Identity() = default;
  // Metadata; `name` must equal the socket file name / Service label and what users write in Clusters.
  virtual PluginMetadata Metadata() const = 0;
  // Services this process answers, in the order they are advertised.
  virtual std::vector<PluginService> Services() const = 0;
  // Readiness; a non-OK status makes CNPG drop the connection and retry.
  virtual absl::Status Probe() const = 0;
};

// The plugin's metadata for the given name (default pgbackrest.cnpg.opera.com).
CNPGI_PGBACKREST_EXPORT PluginMetadata DefaultPluginMetadata(std::string name);

// A fixed identity: metadata plus the services a host mounted.
class CNPGI_PGBACKREST_EXPORT StaticIdentity : public Identity {
 public:
  StaticIdentity(PluginMetadata metadata, std::vector<PluginService> services)
      : metadata_(std::move(metadata)), services_(std::move(services)) {}
  PluginMetadata Metadata() const override { return metadata_; }
  std::vector<PluginService> Services() const override { return services_; }
  absl::Status Probe() const override { return absl::OkStatus(); }

 private:
  PluginMetadata metadata_;
  std::vector<PluginService> services_;
};

}  // namespace cnpgi_pgbackrest
