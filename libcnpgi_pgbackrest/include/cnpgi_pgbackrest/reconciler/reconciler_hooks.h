// Reconciler hooks capability: run before/after CNPG reconciles a Cluster or a Backup (operator side).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Values equal ReconcilerHooksCapability.Kind on the wire.
enum class ReconciledKind { kCluster = 1, kBackup = 2 };

// Values equal ReconcilerHooksResult.Behavior on the wire.
enum class ReconcilerBehavior { kContinue = 1, kRequeue = 2, kTerminate = 3 };

struct ReconcilerRequest {
  std::string cluster_definition;   // Cluster JSON
  std::string resource_definition;  // the reconciled object: the Cluster again, or a Backup
};

struct ReconcilerResult {
  ReconcilerBehavior behavior = ReconcilerBehavior::kContinue;
  std::chrono::seconds requeue_after{0};
};

class CNPGI_PGBACKREST_EXPORT ReconcilerHooks {
 public:
  virtual ~ReconcilerHooks() = default;
  // The kinds to be called for.
  virtual std::vector<ReconciledKind> Kinds() const = 0;
  // Before the reconcile loop's writes; REQUEUE keeps the object waiting. Any thread, often; must
  // not block on slow services. INVALID_ARGUMENT for malformed definitions.
  virtual absl::StatusOr<ReconcilerResult> Pre(const ReconcilerRequest& request) = 0;
  // After a successful loop.
  virtual absl::StatusOr<ReconcilerResult> Post(const ReconcilerRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
