// An example C++ host that embeds cnpgi-pgbackrest from its installed library: our WAL archive,
// WAL restore and Backup capabilities, next to a Metrics capability of its own, on one CNPG-I
// server on a Unix socket. Identity advertises exactly what is mounted.
//   example-host --socket-dir=DIR --pgdata=DIR --archives-file=FILE --work-dir=DIR
#include <chrono>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include <cnpgi_pgbackrest/metrics/metrics_grpc.h>
#include <cnpgi_pgbackrest/plugin/sidecar_plugin.h>
#include <cnpgi_pgbackrest/plugin/termination.h>
#include <cnpgi_pgbackrest/transport/unix_socket_server.h>
#include <cnpgi_pgbackrest/version.h>

namespace {

namespace cp = cnpgi_pgbackrest;

// The host's own capability: one gauge, how long it has been serving.
class UptimeMetrics final : public cp::Metrics {
 public:
  std::vector<cp::MetricDefinition> Define(const std::string&) override {
    return {{.fq_name = "example_host_uptime_seconds", .help = "Seconds since the example host started"}};
  }
  absl::StatusOr<std::vector<cp::MetricSample>> Collect(const std::string&) override {
    double up = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    return std::vector<cp::MetricSample>{{.fq_name = "example_host_uptime_seconds", .value = up}};
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (int i = 1; i < argc; ++i)
    if (const char* eq = std::strchr(argv[i], '='); eq && std::strncmp(argv[i], "--", 2) == 0)
      flags[std::string(static_cast<const char*>(argv[i]) + 2, eq)] = eq + 1;
  cp::BlockTerminationSignals();  // before any thread starts

  cp::SidecarOptions options;
  options.plugin_path = flags["socket-dir"];
  options.pgdata = flags["pgdata"];
  options.archives_file = flags["archives-file"];
  options.work_dir = flags["work-dir"];
  auto plugin = cp::SidecarPlugin::Create(options);
  if (!plugin.ok()) {
    std::cerr << "example host: " << plugin.status().message() << "\n";
    return 2;
  }
  cp::PluginServices services(cp::DefaultPluginMetadata(options.plugin_name));
  (*plugin)->Mount(services, {cp::PluginService::kWal, cp::PluginService::kBackup});
  UptimeMetrics uptime;
  services.Add(cp::PluginService::kMetrics, std::make_unique<cp::MetricsGrpcService>(&uptime));

  auto server = cp::StartUnixSocketServer((*plugin)->socket_path(), services.All());
  if (!server.ok()) {
    std::cerr << "example host: " << server.status().message() << "\n";
    return 1;
  }
  std::cerr << "example host serving on " << (*plugin)->socket_path() << " with cnpgi-pgbackrest " << cp::Version()
            << "\n";
  cp::ServeUntilTerminated(**server);
  return 0;
}
