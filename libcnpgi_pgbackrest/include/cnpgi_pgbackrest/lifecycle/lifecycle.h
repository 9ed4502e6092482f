// Lifecycle mutation capability: patch Pods and Jobs CNPG is about to write (operator side).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Values equal OperatorOperationType.Type on the wire.
enum class LifecycleOperation { kUnspecified = 0, kPatch = 1, kUpdate = 2, kCreate = 3, kDelete = 4, kEvaluate = 6 };

// Which writes to hook: API group ("" for core, "batch"), kind ("Pod", "Job") and verbs.
struct LifecycleSubscription {
  std::string group;
  std::string kind;
  std::vector<LifecycleOperation> operations;
};

struct LifecycleRequest {
  LifecycleOperation operation = LifecycleOperation::kUnspecified;
  std::string cluster_definition;  // Cluster JSON
  std::string object_definition;   // the Pod/Job JSON as CNPG serialized it, apiVersion and kind set
};

class CNPGI_PGBACKREST_EXPORT LifecycleMutation {
 public:
  virtual ~LifecycleMutation() = default;
  // The (group, kind, verbs) this plugin wants to see.
  virtual std::vector<LifecycleSubscription> Subscriptions() const = 0;
  // An RFC 6902 JSON patch against object_definition; empty means no change. Called from any
  // thread for every write subscribed to (and, by some CNPG versions, others: those get an empty
  // patch). Must be idempotent: EVALUATE then CREATE on the evaluated object gives an empty patch.
  // INVALID_ARGUMENT for malformed definitions; the Archive lookup's status when one is missing.
  virtual absl::StatusOr<std::string> Mutate(const LifecycleRequest& request) = 0;
};

}  // namespace cnpgi_pgbackrest
