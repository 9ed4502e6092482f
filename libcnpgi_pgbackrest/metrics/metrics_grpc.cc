#include "cnpgi_pgbackrest/metrics/metrics_grpc.h"

#include <map>

#include "absl/strings/str_cat.h"

#include "cnpgi_pgbackrest/transport/grpc_status.h"
#include "transport/fast_unary.h"

namespace cnpgi_pgbackrest {

namespace pb = cnpgi::metrics::v1;

grpc::Status MetricsGrpcService::GetCapabilities(grpc::ServerContext*, const pb::MetricsCapabilitiesRequest*,
                                                 pb::MetricsCapabilitiesResult* response) {
  response->add_capabilities()->mutable_rpc()->set_type(pb::MetricsCapability::RPC::TYPE_METRICS);
  return grpc::Status::OK;
}

grpc::Status MetricsGrpcService::Define(grpc::ServerContext*, const pb::DefineMetricsRequest* request,
                                        pb::DefineMetricsResult* response) {
  for (const MetricDefinition& d : metrics_->Define(request->cluster_definition())) {
    pb::Metric* m = response->add_metrics();
    m->set_fq_name(d.fq_name);
    m->set_help(d.help);
    for (const auto& l : d.variable_labels) m->add_variable_labels(l);
    for (const auto& [k, v] : d.const_labels) (*m->mutable_const_labels())[k] = v;
    m->mutable_value_type()->set_type(static_cast<pb::MetricType::Type>(static_cast<int>(d.type)));
  }
  return grpc::Status::OK;
}

grpc::Status MetricsGrpcService::Collect(grpc::ServerContext*, const pb::CollectMetricsRequest* request,
                                         pb::CollectMetricsResult* response) {
  std::map<std::string, std::size_t> labels;
  for (const MetricDefinition& d : metrics_->Define(request->cluster_definition()))
    labels[d.fq_name] = d.variable_labels.size();
  auto samples = metrics_->Collect(request->cluster_definition());
  if (!samples.ok()) return ToGrpcStatus(samples.status());
  for (const MetricSample& s : *samples) {
    auto it = labels.find(s.fq_name);
    if (it == labels.end() || it->second != s.label_values.size())
      return ToGrpcStatus(absl::InternalError(absl::StrCat("metric ", s.fq_name, " does not match its definition")));
    pb::CollectMetric* m = response->add_metrics();
    m->set_fq_name(s.fq_name);
    m->set_value(s.value);
    for (const auto& v : s.label_values) m->add_variable_labels(v);
  }
  return grpc::Status::OK;
}

// Method numbers are the order of the rpc lines in the service's .proto.
void MetricsGrpcService::MarkFastMethods() {
  MarkMethodAsync(0);  // GetCapabilities
}

void MetricsGrpcService::ArmFastMethods(grpc::ServerCompletionQueue* cq) {
  ArmFastUnary(this, cq, 0, &MetricsGrpcService::RequestAsyncUnary<pb::MetricsCapabilitiesRequest>,
               &MetricsGrpcService::GetCapabilities);
}

}  // namespace cnpgi_pgbackrest
