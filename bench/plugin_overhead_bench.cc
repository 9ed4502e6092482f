// What the plugin itself costs per archive_command: CNPG's instance manager opens a new
// connection for every WAL file and runs the handshake (metadata, capabilities, WAL
// capabilities, Probe) before Archive. The archiver here does nothing, so the time is the
// plugin's plus the client's. The cross-process variant runs the server in its own process,
// as in the Pod, and reports the server's CPU per call apart from the client's.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <grpcpp/health_check_service_interface.h>
#include <sys/wait.h>

#include "cnpgi_pgbackrest/identity/identity.h"
#include "cnpgi_pgbackrest/identity/identity_grpc.h"
#include "cnpgi_pgbackrest/transport/unix_socket_server.h"
#include "cnpgi_pgbackrest/wal/wal_grpc.h"
#include "identity.grpc.pb.h"
#include "wal.grpc.pb.h"

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
  std::unique_ptr<UnixSocketServer> server;

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
    server.reset();
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

// The five calls CNPG makes for one archive_command: handshake, Probe, Archive.
bool CallsOn(const std::shared_ptr<grpc::Channel>& channel, const cnpgi::wal::v1::WALArchiveRequest& req,
             std::string* error) {
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
  if (!s.ok()) *error = s.error_message();
  return s.ok();
}

// One archive_command as CNPG makes it: new connection, then the five calls.
bool CallSequence(const std::string& socket, const cnpgi::wal::v1::WALArchiveRequest& req, std::string* error) {
  return CallsOn(grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials()), req, error);
}

void BM_ArchiveWithHandshake(benchmark::State& state) {
  Server& server = TheServer();
  auto req = Request();
  std::string error;
  for (auto _ : state)
    if (!CallSequence(server.socket, req, &error)) state.SkipWithError(error.c_str());
}
BENCHMARK(BM_ArchiveWithHandshake)->Unit(benchmark::kMicrosecond)->UseRealTime();

// The same five calls on an established connection: what the round trips cost without the dial.
void BM_FiveCallsOnOpenConnection(benchmark::State& state) {
  Server& server = TheServer();
  auto req = Request();
  auto channel = grpc::CreateChannel("unix://" + server.socket, grpc::InsecureChannelCredentials());
  std::string error;
  for (auto _ : state)
    if (!CallsOn(channel, req, &error)) state.SkipWithError(error.c_str());
}
BENCHMARK(BM_FiveCallsOnOpenConnection)->Unit(benchmark::kMicrosecond)->UseRealTime();

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

const char* self_path = nullptr;

// CPU seconds (user + system) the process has used so far.
double ProcessCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i == 14 || i == 15) ticks += std::stod(f);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// The floor for any gRPC plugin with this client: a null server on one completion-queue thread
// (no hand-off between threads), answering the same five methods with fixed replies.
struct FloorCall {
  virtual ~FloorCall() = default;
  virtual void Proceed(bool ok) = 0;
};

template <class Service, class Req, class Resp, class RequestFn, class Fill>
class FloorUnary : public FloorCall {
 public:
  FloorUnary(Service* service, grpc::ServerCompletionQueue* cq, RequestFn request, Fill fill)
      : service_(service), cq_(cq), request_(request), fill_(fill) {
    (service_->*request_)(&ctx_, &req_, &writer_, cq_, cq_, this);
  }
  void Proceed(bool ok) override {
    if (finishing_ || !ok) {
      delete this;
      return;
    }
    new FloorUnary(service_, cq_, request_, fill_);
    finishing_ = true;
    fill_(&resp_);
    writer_.Finish(resp_, grpc::Status::OK, this);
  }

 private:
  Service* service_;
  grpc::ServerCompletionQueue* cq_;
  RequestFn request_;
  Fill fill_;
  grpc::ServerContext ctx_;
  Req req_;
  Resp resp_;
  grpc::ServerAsyncResponseWriter<Resp> writer_{&ctx_};
  bool finishing_ = false;
};

template <class Req, class Resp, class Service, class RequestFn, class Fill>
void FloorServe(Service* service, grpc::ServerCompletionQueue* cq, RequestFn request, Fill fill) {
  new FloorUnary<Service, Req, Resp, RequestFn, Fill>(service, cq, request, fill);
}

int ServeFloor(const std::string& socket) {
  namespace id = cnpgi::identity::v1;
  namespace wal = cnpgi::wal::v1;
  id::Identity::AsyncService identity;
  wal::WAL::AsyncService wal_service;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  builder.RegisterService(&identity);
  builder.RegisterService(&wal_service);
  auto cq = builder.AddCompletionQueue();
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  FloorServe<id::GetPluginMetadataRequest, id::GetPluginMetadataResponse>(
      &identity, cq.get(), &id::Identity::AsyncService::RequestGetPluginMetadata,
      [](id::GetPluginMetadataResponse* r) { r->set_name("pgbackrest.cnpg.opera.com"); });
  FloorServe<id::GetPluginCapabilitiesRequest, id::GetPluginCapabilitiesResponse>(
      &identity, cq.get(), &id::Identity::AsyncService::RequestGetPluginCapabilities,
      [](id::GetPluginCapabilitiesResponse* r) {
        r->add_capabilities()->mutable_service()->set_type(id::PluginCapability::Service::TYPE_WAL_SERVICE);
      });
  FloorServe<id::ProbeRequest, id::ProbeResponse>(&identity, cq.get(), &id::Identity::AsyncService::RequestProbe,
                                                  [](id::ProbeResponse* r) { r->set_ready(true); });
  FloorServe<wal::WALCapabilitiesRequest, wal::WALCapabilitiesResult>(
      &wal_service, cq.get(), &wal::WAL::AsyncService::RequestGetCapabilities, [](wal::WALCapabilitiesResult* r) {
        r->add_capabilities()->mutable_rpc()->set_type(wal::WALCapability::RPC::TYPE_ARCHIVE_WAL);
      });
  FloorServe<wal::WALArchiveRequest, wal::WALArchiveResult>(
      &wal_service, cq.get(), &wal::WAL::AsyncService::RequestArchive, [](wal::WALArchiveResult*) {});
  void* tag;
  bool ok;
  while (cq->Next(&tag, &ok)) static_cast<FloorCall*>(tag)->Proceed(ok);
  return 0;
}

// A sync gRPC server (the kind the plugin runs) whose services answer constants: what the
// synchronous server machinery costs, apart from the plugin's adapters.
class NullSyncIdentity : public cnpgi::identity::v1::Identity::Service {
  grpc::Status GetPluginMetadata(grpc::ServerContext*, const cnpgi::identity::v1::GetPluginMetadataRequest*,
                                 cnpgi::identity::v1::GetPluginMetadataResponse* r) override {
    r->set_name("pgbackrest.cnpg.opera.com");
    return grpc::Status::OK;
  }
  grpc::Status GetPluginCapabilities(grpc::ServerContext*, const cnpgi::identity::v1::GetPluginCapabilitiesRequest*,
                                     cnpgi::identity::v1::GetPluginCapabilitiesResponse* r) override {
    r->add_capabilities()->mutable_service()->set_type(
        cnpgi::identity::v1::PluginCapability::Service::TYPE_WAL_SERVICE);
    return grpc::Status::OK;
  }
  grpc::Status Probe(grpc::ServerContext*, const cnpgi::identity::v1::ProbeRequest*,
                     cnpgi::identity::v1::ProbeResponse* r) override {
    r->set_ready(true);
    return grpc::Status::OK;
  }
};
class NullSyncWal : public cnpgi::wal::v1::WAL::Service {
  grpc::Status GetCapabilities(grpc::ServerContext*, const cnpgi::wal::v1::WALCapabilitiesRequest*,
                               cnpgi::wal::v1::WALCapabilitiesResult* r) override {
    r->add_capabilities()->mutable_rpc()->set_type(cnpgi::wal::v1::WALCapability::RPC::TYPE_ARCHIVE_WAL);
    return grpc::Status::OK;
  }
  grpc::Status Archive(grpc::ServerContext*, const cnpgi::wal::v1::WALArchiveRequest*,
                       cnpgi::wal::v1::WALArchiveResult*) override {
    return grpc::Status::OK;
  }
};

// The same constants through gRPC's callback API: handlers run where the call is read, no hand-off.
class NullCallbackIdentity : public cnpgi::identity::v1::Identity::CallbackService {
  grpc::ServerUnaryReactor* GetPluginMetadata(grpc::CallbackServerContext* c,
                                              const cnpgi::identity::v1::GetPluginMetadataRequest*,
                                              cnpgi::identity::v1::GetPluginMetadataResponse* r) override {
    r->set_name("pgbackrest.cnpg.opera.com");
    auto* reactor = c->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* GetPluginCapabilities(grpc::CallbackServerContext* c,
                                                  const cnpgi::identity::v1::GetPluginCapabilitiesRequest*,
                                                  cnpgi::identity::v1::GetPluginCapabilitiesResponse* r) override {
    r->add_capabilities()->mutable_service()->set_type(
        cnpgi::identity::v1::PluginCapability::Service::TYPE_WAL_SERVICE);
    auto* reactor = c->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::ServerUnaryReactor* Probe(grpc::CallbackServerContext* c, const cnpgi::identity::v1::ProbeRequest*,
                                  cnpgi::identity::v1::ProbeResponse* r) override {
    r->set_ready(true);
    auto* reactor = c->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};
// Callback GetCapabilities, synchronous Archive: the split a plugin whose Archive blocks would use.
class NullHybridWal : public cnpgi::wal::v1::WAL::WithCallbackMethod_GetCapabilities<cnpgi::wal::v1::WAL::Service> {
  grpc::ServerUnaryReactor* GetCapabilities(grpc::CallbackServerContext* c,
                                            const cnpgi::wal::v1::WALCapabilitiesRequest*,
                                            cnpgi::wal::v1::WALCapabilitiesResult* r) override {
    r->add_capabilities()->mutable_rpc()->set_type(cnpgi::wal::v1::WALCapability::RPC::TYPE_ARCHIVE_WAL);
    auto* reactor = c->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  grpc::Status Archive(grpc::ServerContext*, const cnpgi::wal::v1::WALArchiveRequest*,
                       cnpgi::wal::v1::WALArchiveResult*) override {
    return grpc::Status::OK;
  }
};

// A plain gRPC server with the given services on socket, until it is killed.
int ServePlain(const std::string& socket, std::vector<grpc::Service*> services) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  for (grpc::Service* s : services) builder.RegisterService(s);
  auto server = builder.BuildAndStart();
  if (!server) return 1;
  server->Wait();
  return 0;
}

int ServeNullHybrid(const std::string& socket) {
  NullCallbackIdentity identity;
  NullHybridWal wal;
  return ServePlain(socket, {&identity, &wal});
}

int ServeNullSync(const std::string& socket, bool health) {
  if (health) grpc::EnableDefaultHealthCheckService(true);
  NullSyncIdentity identity;
  NullSyncWal wal;
  return ServePlain(socket, {&identity, &wal});
}

// The same sequence against a server in its own process, like the sidecar: arg 0 is the plugin's
// server (this program with --serve), arg 1 the null floor server (--serve-floor).
void BM_ArchiveWithHandshakeCrossProcess(benchmark::State& state) {
  bool floor = state.range(0) == 1;
  state.SetLabel(floor ? "null gRPC server (floor)" : "plugin server");
  std::string dir = std::filesystem::temp_directory_path() / ("cnpgi-bench-x-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string socket = dir + "/pgbackrest.cnpg.opera.com";
  std::string flag = (floor ? "--serve-floor=" : "--serve=") + socket;
  char* argv[] = {const_cast<char*>(self_path), flag.data(), nullptr};
  pid_t pid;
  if (posix_spawn(&pid, self_path, nullptr, nullptr, argv, environ) != 0) {
    state.SkipWithError("cannot start the server process");
    return;
  }
  for (int i = 0; i < 200 && !std::filesystem::exists(socket); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto req = Request();
  std::string error;
  CallSequence(socket, req, &error);  // warm-up: the server's first call pays its lazy set-up
  double cpu0 = ProcessCpuSeconds(pid);
  for (auto _ : state)
    if (!CallSequence(socket, req, &error)) state.SkipWithError(error.c_str());
  double cpu = ProcessCpuSeconds(pid) - cpu0;
  state.counters["server_cpu_us"] = benchmark::Counter(cpu * 1e6 / static_cast<double>(state.iterations()));
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ArchiveWithHandshakeCrossProcess)
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime()
    ->MinTime(2.0);

}  // namespace

int main(int argc, char** argv) {
  self_path = "/proc/self/exe";
  if (argc == 2 && std::string(argv[1]).rfind("--serve-null-sync=", 0) == 0)
    return ServeNullSync(std::string(argv[1]).substr(18), false);
  if (argc == 2 && std::string(argv[1]).rfind("--serve-null-hybrid=", 0) == 0)
    return ServeNullHybrid(std::string(argv[1]).substr(20));
  if (argc == 2 && std::string(argv[1]).rfind("--serve-null-sync-health=", 0) == 0)
    return ServeNullSync(std::string(argv[1]).substr(25), true);
  if (argc == 2 && std::string(argv[1]).rfind("--serve-floor=", 0) == 0)
    return ServeFloor(std::string(argv[1]).substr(14));
  if (argc == 2 && std::string(argv[1]).rfind("--serve=", 0) == 0) {
    std::string socket = std::string(argv[1]).substr(8);
    NoopArchive archive;
    StaticIdentity identity{DefaultPluginMetadata("pgbackrest.cnpg.opera.com"), {PluginService::kWal}};
    IdentityGrpcService identity_service{&identity};
    WalGrpcService wal_service{&archive, nullptr};
    auto server = StartUnixSocketServer(socket, {&identity_service, &wal_service});
    if (!server.ok()) return 1;
    (*server)->server().Wait();
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
