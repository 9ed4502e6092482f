// Metrics capability: Prometheus metrics the instance exporter asks for on every scrape (sidecar).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// Values equal MetricType.Type on the wire (and Prometheus' ValueType); 0 is never valid.
enum class MetricType { kCounter = 1, kGauge = 2, kUntyped = 3 };

struct MetricDefinition {
  std::string fq_name;
  std::string help;
  std::vector<std::string> variable_labels;  // label names
  std::map<std::string, std::string> const_labels;
  MetricType type = MetricType::kGauge;
};

struct MetricSample {
  std::string fq_name;  // must match a definition
  double value = 0;
  std::vector<std::string> label_values;  // same count and order as variable_labels
};

class CNPGI_PGBACKREST_EXPORT Metrics {
 public:
  virtual ~Metrics() = default;
  // The metrics this plugin exports for the Cluster.
  virtual std::vector<MetricDefinition> Define(const std::string& cluster_definition) = 0;
  // Current values; every sample's fq_name is one Define returned. Both are called on every
  // scrape, from any thread, and must answer quickly (no waiting on object storage).
  virtual absl::StatusOr<std::vector<MetricSample>> Collect(const std::string& cluster_definition) = 0;
};

}  // namespace cnpgi_pgbackrest
