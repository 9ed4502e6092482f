// What the plugin itself costs per archive_command: CNPG's instance manager opens a new
// connection for every WAL file and runs the handshake (metadata, capabilities, WAL
// capabilities, Probe) before Archive. The archiver here does nothing, so the time is ours.
#include <unistd.h>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "identity.grpc.pb.h"
#include "identity/identity.h"
#include "identity/identity_grpc.h"
#include "transport/unix_socket_server.h"
#include "wal.grpc.pb.h"
#include "wal/wal_grpc.h"

namespace {

using namespace cnpgi_pgbackrest;

class NoopArchive : public WalArchive {
 public:
  absl::Status Archive(const WalArchiveRequest&) override { return absl::OkStatus(); }
};

constexpr const char* kCluster =
    R"({"metadata":{"name":"cluster-example"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com",)"
    R"("parameters":{"pgbackrestObjectName":"store"}}]},"status":{"currentPrimary":"cluster-example-1"}})";

struct Server {
  std::string dir = std::filesystem::temp_directory_path() / ("cnpgi-bench-" + std::to_string(getpid()));
  std::string socket = dir + "/pgbackrest.cnpg.opera.com";
  NoopArchive archive;
  StaticIdentity identity{DefaultPluginMetadata("pgbackrest.cnpg.opera.com"), {PluginService::kWal}};
  IdentityGrpcService identity_service{&identity};
  WalGrpcService wal_service{&archive, nullptr};
  std::unique_ptr<grpc::Server> server;

  Server() {
    std::filesystem::create_directories(dir);
    auto s = StartUnixSocketServer(socket, {&identity_service, &wal_service});
    if (!s.ok()) {
      fprintf(stderr, "%s\n", std::string(s.status().message()).c_str());
      std::exit(1);
    }
    server = std::move(*s);
  }
  ~Server() {
    server->Shutdown();
    std::filesystem::remove_all(dir);
  }
};

Server& TheServer() {
  static Server server;
  return server;
}

cnpgi::wal::v1::WALArchiveRequest Request() {
  cnpgi::wal::v1::WALArchiveRequest req;
  req.set_cluster_definition(kCluster);
  req.set_source_file_name("/var/lib/postgresql/data/pgdata/pg_wal/000000010000000000000001");
  req.set_check_empty_wal_archive(false);
  return req;
}

// One archive_command as CNPG makes it: new connection, handshake, Probe, Archive.
void BM_ArchiveWithHandshake(benchmark::State& state) {
  Server& server = TheServer();
  auto req = Request();
  for (auto _ : state) {
    auto channel = grpc::CreateChannel("unix://" + server.socket, grpc::InsecureChannelCredentials());
    auto identity = cnpgi::identity::v1::Identity::NewStub(channel);
    auto wal = cnpgi::wal::v1::WAL::NewStub(channel);
    {
      grpc::ClientContext c;
      cnpgi::identity::v1::GetPluginMetadataResponse r;
      benchmark::DoNotOptimize(identity->GetPluginMetadata(&c, {}, &r));
    }
    {
      grpc::ClientContext c;
      cnpgi::identity::v1::GetPluginCapabilitiesResponse r;
      benchmark::DoNotOptimize(identity->GetPluginCapabilities(&c, {}, &r));
    }
    {
      grpc::ClientContext c;
      cnpgi::wal::v1::WALCapabilitiesResult r;
      benchmark::DoNotOptimize(wal->GetCapabilities(&c, {}, &r));
    }
    {
      grpc::ClientContext c;
      cnpgi::identity::v1::ProbeResponse r;
      benchmark::DoNotOptimize(identity->Probe(&c, {}, &r));
    }
    grpc::ClientContext c;
    cnpgi::wal::v1::WALArchiveResult r;
    grpc::Status s = wal->Archive(&c, req, &r);
    if (!s.ok()) state.SkipWithError(s.error_message().c_str());
  }
}
BENCHMARK(BM_ArchiveWithHandshake)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The Archive RPC alone on an established connection (a long-lived client).
void BM_ArchiveOnly(benchmark::State& state) {
  Server& server = TheServer();
  auto req = Request();
  auto channel = grpc::CreateChannel("unix://" + server.socket, grpc::InsecureChannelCredentials());
  auto wal = cnpgi::wal::v1::WAL::NewStub(channel);
  for (auto _ : state) {
    grpc::ClientContext c;
    cnpgi::wal::v1::WALArchiveResult r;
    grpc::Status s = wal->Archive(&c, req, &r);
    if (!s.ok()) state.SkipWithError(s.error_message().c_str());
  }
}
BENCHMARK(BM_ArchiveOnly)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
