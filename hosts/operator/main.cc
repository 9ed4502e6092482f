// Operator-side host: the plugin Deployment CNPG's operator dials over TCP with mutual TLS.
//   cnpgi-pgbackrest-operator [operator] --server-cert=... --server-key=... --client-cert=... [--server-address=:9090]
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "common/log.h"
#include "config/archive_catalog.h"
#include "hosts/common/flags.h"
#include "identity/identity.h"
#include "identity/identity_grpc.h"
#include "kubernetes/client.h"
#include "kubernetes/kubernetes_archive_catalog.h"
#include "lifecycle/lifecycle_grpc.h"
#include "lifecycle/sidecar_injection.h"
#include "reconciler/archive_reconciler.h"
#include "reconciler/reconciler_grpc.h"
#include "transport/tls_server.h"
#include "version.h"

ABSL_FLAG(std::string, server_cert, "", "server certificate (the server Secret's tls.crt)");
ABSL_FLAG(std::string, server_key, "", "server key (the server Secret's tls.key)");
ABSL_FLAG(std::string, client_cert, "", "client certificate(s) to trust (the client Secret's tls.crt)");
ABSL_FLAG(std::string, server_address, ":9090", "address to listen on");
ABSL_FLAG(std::string, plugin_name, "pgbackrest.cnpg.opera.com", "plugin name (the Service label cnpg.io/pluginName)");
ABSL_FLAG(std::string, sidecar_image, "", "sidecar image (default $SIDECAR_IMAGE)");
ABSL_FLAG(std::string, archives_file, "",
          "Archive objects as JSON instead of the Kubernetes API (local runs and tests)");

int main(int argc, char** argv) {
  using namespace cnpgi_pgbackrest;
  absl::SetProgramUsageMessage("cnpgi-pgbackrest operator-side plugin server");
  std::vector<std::string> storage;
  auto normalized = hosts::NormalizeFlags(argc, argv, storage);
  absl::ParseCommandLine(static_cast<int>(normalized.size()), normalized.data());
  // Archives come from the Kubernetes API in a cluster; a file replaces it for local runs and tests.
  std::unique_ptr<ArchiveCatalog> catalog;
  std::unique_ptr<KubernetesClient> kubernetes;
  if (!absl::GetFlag(FLAGS_archives_file).empty()) {
    auto loaded = LoadArchiveCatalog(absl::GetFlag(FLAGS_archives_file));
    if (!loaded.ok()) {
      std::cerr << "cannot load Archive definitions: " << loaded.status().message() << "\n";
      return 2;
    }
    catalog = std::move(*loaded);
  } else {
    auto config = KubernetesConfig::InCluster();
    if (!config.ok()) {
      std::cerr << config.status().message() << " (or give --archives-file)\n";
      return 2;
    }
    kubernetes = std::make_unique<KubernetesClient>(*config);
    catalog = std::make_unique<KubernetesArchiveCatalog>(kubernetes.get());
  }
  std::string image = absl::GetFlag(FLAGS_sidecar_image);
  if (image.empty() && std::getenv("SIDECAR_IMAGE")) image = std::getenv("SIDECAR_IMAGE");
  if (image.empty()) {
    std::cerr << "no sidecar image: set --sidecar-image or $SIDECAR_IMAGE\n";
    return 2;
  }
  std::string name = absl::GetFlag(FLAGS_plugin_name);
  SidecarInjection injection({.plugin_name = name, .image = image}, catalog.get());
  ArchiveReconciler reconciler(name, catalog.get());
  // Every instance Pod of a Cluster using the plugin gets the sidecar, so the instance manager may rely on it.
  StaticIdentity identity(DefaultPluginMetadata(name), {PluginService::kLifecycle, PluginService::kReconcilerHooks,
                                                        PluginService::kInstanceSidecarInjection});
  IdentityGrpcService identity_service(&identity);
  LifecycleGrpcService lifecycle_service(&injection);
  ReconcilerGrpcService reconciler_service(&reconciler);

  hosts::BlockTerminationSignals();
  MutualTlsOptions tls{.address = absl::GetFlag(FLAGS_server_address),
                       .server_cert = absl::GetFlag(FLAGS_server_cert),
                       .server_key = absl::GetFlag(FLAGS_server_key),
                       .client_cert = absl::GetFlag(FLAGS_client_cert)};
  auto server = StartMutualTlsServer(tls, {&identity_service, &lifecycle_service, &reconciler_service});
  if (!server.ok()) {
    std::cerr << "cannot start the operator-side server: " << server.status().message() << "\n";
    return 1;
  }
  Log("info", "operator-side server listening", {{"address", tls.address}, {"version", kPluginVersion}});
  std::thread waiter([&] {
    hosts::WaitForTerminationSignal();
    (*server)->grpc->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  });
  (*server)->grpc->Wait();
  waiter.join();
  return 0;
}
