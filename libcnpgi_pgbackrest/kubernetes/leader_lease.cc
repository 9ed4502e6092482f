#include "kubernetes/leader_lease.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cnpgi_pgbackrest {
namespace {

// metav1.MicroTime as the API server writes it.
std::string MicroTime(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone()); }

}  // namespace

LeaderLease::LeaderLease(const KubernetesClient* client, LeaseOptions options, std::function<Clock::time_point()> now)
    : client_(client), options_(std::move(options)), now_(std::move(now)) {}

std::string LeaderLease::path() const {
  return absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/", options_.namespace_name, "/leases/", options_.name);
}

void LeaderLease::Observe(const nlohmann::json& spec) {
  if (spec == observed_spec_) return;
  observed_spec_ = spec;
  observed_at_ = now_();
}

bool LeaderLease::leading() const { return held_ && now_() < renewed_at_ + options_.duration; }

absl::StatusOr<bool> LeaderLease::TryAcquireOrRenew() {
  auto current = client_->Get(path());
  if (!current.ok()) {
    // Unreachable API: held_ stays, and leading() ends by itself once the lease would have expired.
    if (current.status().code() != absl::StatusCode::kNotFound) return current.status();
    nlohmann::json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                            {"kind", "Lease"},
                            {"metadata", {{"name", options_.name}, {"namespace", options_.namespace_name}}},
                            {"spec", nlohmann::json::object()}};
    return Write(std::move(lease), /*create=*/true);
  }
  nlohmann::json spec = current->value("spec", nlohmann::json::object());
  Observe(spec);
  std::string holder = spec.value("holderIdentity", "");
  if (!holder.empty() && holder != options_.identity) {
    held_ = false;
    std::chrono::seconds duration(spec.value("leaseDurationSeconds", static_cast<int64_t>(options_.duration.count())));
    if (now_() < observed_at_ + duration) return false;  // its holder may still be renewing
  }
  return Write(std::move(*current), /*create=*/false);
}

absl::StatusOr<bool> LeaderLease::Write(nlohmann::json lease, bool create) {
  nlohmann::json& spec = lease["spec"];
  bool taking_over = spec.value("holderIdentity", "") != options_.identity;
  std::string now = MicroTime(absl::Now());
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = options_.duration.count();
  spec["renewTime"] = now;
  if (taking_over) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + (create ? 0 : 1);
  }
  // The lease runs from before the write at the latest, so this side never believes it longer.
  Clock::time_point sent = now_();
  std::string collection = path().substr(0, path().rfind('/'));
  auto written = create ? client_->Create(collection, lease) : client_->Replace(path(), lease);
  if (!written.ok()) {
    // 409: another candidate created or changed the Lease since it was read; it won this round.
    if (written.status().code() == absl::StatusCode::kAborted) {
      held_ = false;
      return false;
    }
    return written.status();
  }
  held_ = true;
  renewed_at_ = sent;
  Observe(written->value("spec", nlohmann::json::object()));
  return true;
}

absl::Status LeaderLease::Release() {
  if (!held_) return absl::OkStatus();
  held_ = false;  // whatever the API answers, this candidate stops leading now
  auto current = client_->Get(path());
  if (!current.ok()) return current.status();
  nlohmann::json& spec = (*current)["spec"];
  if (spec.value("holderIdentity", "") != options_.identity) return absl::OkStatus();
  spec.erase("holderIdentity");
  spec["leaseDurationSeconds"] = 1;
  spec["renewTime"] = MicroTime(absl::Now());
  auto written = client_->Replace(path(), *current);
  if (!written.ok() && written.status().code() != absl::StatusCode::kAborted) return written.status();
  return absl::OkStatus();
}

}  // namespace cnpgi_pgbackrest
