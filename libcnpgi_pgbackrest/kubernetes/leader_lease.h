// Leader election over a coordination.k8s.io/v1 Lease. Every replica of the operator Deployment
// serves CNPG-I; work the operator side runs on its own (a periodic sync) must run on one replica
// at a time, the one holding the Lease.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#include "kubernetes/client.h"

namespace cnpgi_pgbackrest {

struct LeaseOptions {
  std::string namespace_name;         // the operator's own namespace (RBAC allows leases there only)
  std::string name;                   // the Lease, one per kind of work
  std::string identity;               // holderIdentity: the Pod name
  std::chrono::seconds duration{15};  // leaseDurationSeconds
};

class LeaderLease {
 public:
  using Clock = std::chrono::steady_clock;
  // The client must outlive this object; now is replaceable for tests of expiry.
  LeaderLease(const KubernetesClient* client, LeaseOptions options,
              std::function<Clock::time_point()> now = Clock::now);

  // One election round; call it every duration/3 or so. Creates the Lease when it does not exist,
  // renews it while held, and takes it over once its holder has left it unrenewed for its
  // leaseDurationSeconds. Expiry is measured on this process's clock from the moment this
  // candidate saw the record last change (as client-go does), so the nodes' clocks need not agree.
  // Every write carries the resourceVersion read, so of two candidates only one can win a round.
  // true: this candidate leads until leading() says otherwise.
  absl::StatusOr<bool> TryAcquireOrRenew();

  // Gives a held Lease up (holder cleared) so another candidate takes over at once. A no-op when
  // this candidate does not hold it.
  absl::Status Release();

  // Held and renewed within the lease duration: a leader that cannot renew stops leading before
  // another candidate may take over.
  bool leading() const;

  std::string path() const;

 private:
  absl::StatusOr<bool> Write(nlohmann::json lease, bool create);
  void Observe(const nlohmann::json& spec);

  const KubernetesClient* client_;
  LeaseOptions options_;
  std::function<Clock::time_point()> now_;
  nlohmann::json observed_spec_;     // the Lease record as last read
  Clock::time_point observed_at_{};  // when observed_spec_ last changed, on this clock
  bool held_ = false;
  Clock::time_point renewed_at_{};
};

}  // namespace cnpgi_pgbackrest
