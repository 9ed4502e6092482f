// Cluster status capability (Operator service, SetStatusInCluster): what the plugin shows in the
// Cluster's status.pluginStatus[] entry of its own name (operator side).
#pragma once

#include <string>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT ClusterStatus {
 public:
  virtual ~ClusterStatus() = default;
  // A JSON object to store as the plugin's status on the Cluster, or "" to leave the stored one as
  // it is. CNPG stores a non-empty answer and reconciles the Cluster again 5 s later, so an answer
  // must be "" whenever it would not change what the Cluster (as received) already shows: two calls
  // with nothing changed answer "" the second time. Any thread, at the end of every reconcile loop;
  // INVALID_ARGUMENT for a malformed Cluster definition. A status the plugin cannot find out (an
  // API outage) is "", never a placeholder value.
  virtual absl::StatusOr<std::string> Compute(const std::string& cluster_definition) = 0;
};

}  // namespace cnpgi_pgbackrest
