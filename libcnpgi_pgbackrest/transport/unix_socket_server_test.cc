// The servers of transport/ answer the adapters' fast methods on their completion-queue thread and
// the others on the synchronous pool; the same adapters on a plain gRPC server stay synchronous.
#include "cnpgi_pgbackrest/transport/unix_socket_server.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <unistd.h>

#include <doctest/doctest.h>

#include "absl/synchronization/notification.h"

#include "cnpgi_pgbackrest/identity/identity_grpc.h"
#include "cnpgi_pgbackrest/wal/wal_grpc.h"

namespace cnpgi_pgbackrest {
namespace {

namespace id = cnpgi::identity::v1;
namespace wal = cnpgi::wal::v1;

// Archive blocks until released (a push in progress); any other segment fails.
class HeldArchive : public WalArchive {
 public:
  absl::Status Archive(const WalArchiveRequest& request) override {
    if (request.source_file_name != "/held") return absl::InvalidArgumentError("not this one");
    entered.Notify();
    release.WaitForNotification();
    return absl::OkStatus();
  }
  absl::Notification entered, release;
};

struct Services {
  HeldArchive archive;
  StaticIdentity identity{DefaultPluginMetadata("pgbackrest.cnpg.opera.com"), {PluginService::kWal}};
  IdentityGrpcService identity_service{&identity};
  WalGrpcService wal_service{&archive, nullptr};
  std::vector<grpc::Service*> All() { return {&identity_service, &wal_service}; }
};

std::string SocketPath(const char* tag) {
  std::string dir = std::filesystem::temp_directory_path() / ("cnpgi-transport-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  return dir + "/" + tag + ".sock";
}

// CNPG's calls before an Archive, on a new connection; an empty string when all answered as expected.
std::string Handshake(const std::string& target) {
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  auto identity = id::Identity::NewStub(channel);
  auto wal_stub = wal::WAL::NewStub(channel);
  grpc::ClientContext c1, c2, c3, c4;
  // A method nobody serves would hang: a deadline turns that into a failure.
  for (auto* c : {&c1, &c2, &c3, &c4}) c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  id::GetPluginMetadataResponse metadata;
  if (auto s = identity->GetPluginMetadata(&c1, {}, &metadata); !s.ok()) return "metadata: " + s.error_message();
  if (metadata.name() != "pgbackrest.cnpg.opera.com") return "metadata name " + metadata.name();
  id::GetPluginCapabilitiesResponse caps;
  if (auto s = identity->GetPluginCapabilities(&c2, {}, &caps); !s.ok()) return "capabilities: " + s.error_message();
  if (caps.capabilities_size() != 1 ||
      caps.capabilities(0).service().type() != id::PluginCapability::Service::TYPE_WAL_SERVICE)
    return "capabilities " + caps.ShortDebugString();
  wal::WALCapabilitiesResult wal_caps;
  if (auto s = wal_stub->GetCapabilities(&c3, {}, &wal_caps); !s.ok()) return "WAL capabilities: " + s.error_message();
  if (wal_caps.capabilities_size() != 1 ||
      wal_caps.capabilities(0).rpc().type() != wal::WALCapability::RPC::TYPE_ARCHIVE_WAL)
    return "WAL capabilities " + wal_caps.ShortDebugString();
  id::ProbeResponse probe;
  if (auto s = identity->Probe(&c4, {}, &probe); !s.ok() || !probe.ready()) return "probe not ready";
  return "";
}

grpc::Status Archive(const std::string& target, const std::string& file) {
  auto stub = wal::WAL::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext c;
  c.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  wal::WALArchiveRequest req;
  req.set_source_file_name(file);
  wal::WALArchiveResult resp;
  return stub->Archive(&c, req, &resp);
}

TEST_CASE("a Unix socket server answers fast methods while a slow one blocks, on every new connection") {
  Services services;
  std::string socket = SocketPath("fast");
  auto server = StartUnixSocketServer(socket, services.All());
  REQUIRE(server.ok());
  std::string target = "unix://" + socket;
  for (int i = 0; i < 50; ++i) REQUIRE(Handshake(target) == "");
  // Statuses of the slow methods still map through the one place (transport/grpc_status).
  CHECK(Archive(target, "/other").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  auto held = std::async(std::launch::async, [&] { return Archive(target, "/held"); });
  services.archive.entered.WaitForNotification();
  CHECK(Handshake(target) == "");  // not queued behind the Archive in progress
  services.archive.release.Notify();
  CHECK(held.get().ok());
  server->reset();  // shuts down, then ends the completion-queue thread
  std::filesystem::remove_all(std::filesystem::path(socket).parent_path());
}

TEST_CASE("the same adapters on a plain gRPC server serve every method synchronously") {
  Services services;
  std::string socket = SocketPath("plain");
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  for (grpc::Service* s : services.All()) builder.RegisterService(s);
  auto server = builder.BuildAndStart();
  REQUIRE(server);
  CHECK(Handshake("unix://" + socket) == "");
  services.archive.release.Notify();
  CHECK(Archive("unix://" + socket, "/held").ok());
  server->Shutdown();
  std::filesystem::remove_all(std::filesystem::path(socket).parent_path());
}

}  // namespace
}  // namespace cnpgi_pgbackrest
