// gRPC adapter for the Metrics capability.
#pragma once

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/metrics/metrics.h"
#include "cnpgi_pgbackrest/transport/fast_methods.h"
#include "metrics.grpc.pb.h"

namespace cnpgi_pgbackrest {

class CNPGI_PGBACKREST_EXPORT MetricsGrpcService final : public cnpgi::metrics::v1::Metrics::Service,
                                                         public FastMethods {
 public:
  explicit MetricsGrpcService(cnpgi_pgbackrest::Metrics* metrics) : metrics_(metrics) {}

  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::metrics::v1::MetricsCapabilitiesRequest*,
                               cnpgi::metrics::v1::MetricsCapabilitiesResult* response) override;
  grpc::Status Define(grpc::ServerContext*, const cnpgi::metrics::v1::DefineMetricsRequest* request,
                      cnpgi::metrics::v1::DefineMetricsResult* response) override;
  // Checks every sample against Define first: CNPG drops the whole plugin's scrape on one bad sample.
  grpc::Status Collect(grpc::ServerContext*, const cnpgi::metrics::v1::CollectMetricsRequest* request,
                       cnpgi::metrics::v1::CollectMetricsResult* response) override;

  // GetCapabilities: answered on the completion-queue thread by the servers of transport/.
  void MarkFastMethods() override;
  void ArmFastMethods(grpc::ServerCompletionQueue* cq) override;

 private:
  cnpgi_pgbackrest::Metrics* metrics_;
};

}  // namespace cnpgi_pgbackrest
