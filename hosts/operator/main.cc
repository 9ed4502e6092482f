// Operator-side host: the plugin Deployment CNPG's operator dials over TCP with mutual TLS.
//   cnpgi-pgbackrest-operator [operator] --server-cert=... --server-key=... --client-cert=... [--server-address=:9090]
//   cnpgi-pgbackrest-operator --version
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"

#include "cnpgi_pgbackrest/plugin/operator_plugin.h"
#include "hosts/common/flags.h"

ABSL_FLAG(std::string, server_cert, "", "server certificate (the server Secret's tls.crt)");
ABSL_FLAG(std::string, server_key, "", "server key (the server Secret's tls.key)");
ABSL_FLAG(std::string, client_cert, "", "client certificate(s) to trust (the client Secret's tls.crt)");
ABSL_FLAG(std::string, server_address, ":9090", "address to listen on");
ABSL_FLAG(std::string, plugin_name, "pgbackrest.cnpg.opera.com", "plugin name (the Service label cnpg.io/pluginName)");
ABSL_FLAG(std::string, sidecar_image, "", "sidecar image (default $SIDECAR_IMAGE)");
ABSL_FLAG(std::string, archives_file, "",
          "Archive objects as JSON instead of the Kubernetes API (local runs and tests)");
ABSL_FLAG(std::string, service_account_dir, "/var/run/secrets/kubernetes.io/serviceaccount",
          "the service account's token and ca.crt for the Kubernetes API (with $KUBERNETES_SERVICE_HOST/PORT)");

int main(int argc, char** argv) {
  cnpgi_pgbackrest::hosts::SetUsage("cnpgi-pgbackrest-operator", "cnpgi-pgbackrest operator-side plugin server");
  std::vector<std::string> storage;
  auto normalized = cnpgi_pgbackrest::hosts::NormalizeFlags(argc, argv, storage);
  absl::ParseCommandLine(static_cast<int>(normalized.size()), normalized.data());
  return cnpgi_pgbackrest::RunOperator({.plugin_name = absl::GetFlag(FLAGS_plugin_name),
                                        .sidecar_image = absl::GetFlag(FLAGS_sidecar_image),
                                        .archives_file = absl::GetFlag(FLAGS_archives_file),
                                        .service_account_dir = absl::GetFlag(FLAGS_service_account_dir)},
                                       {.address = absl::GetFlag(FLAGS_server_address),
                                        .server_cert = absl::GetFlag(FLAGS_server_cert),
                                        .server_key = absl::GetFlag(FLAGS_server_key),
                                        .client_cert = absl::GetFlag(FLAGS_client_cert)});
}
