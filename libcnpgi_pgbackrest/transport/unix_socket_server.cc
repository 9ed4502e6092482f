#include "cnpgi_pgbackrest/transport/unix_socket_server.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

#include "cnpgi_pgbackrest/transport/fast_methods.h"
#include "identity.grpc.pb.h"

namespace cnpgi_pgbackrest {
namespace {

// True when something accepts connections on the socket path.
bool SocketIsLive(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  bool live = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return live;
}

}  // namespace

UnixSocketServer::UnixSocketServer(std::unique_ptr<grpc::Server> server,
                                   std::unique_ptr<grpc::ServerCompletionQueue> cq)
    : server_(std::move(server)), cq_(std::move(cq)) {
  fast_ = std::thread([cq = cq_.get()] {
    void* tag;
    bool ok;
    while (cq->Next(&tag, &ok)) static_cast<FastCall*>(tag)->Proceed(ok);
  });
}

UnixSocketServer::~UnixSocketServer() {
  // In this order (gRPC's rule): the calls still waiting come back not ok, then the queue drains.
  server_->Shutdown();
  cq_->Shutdown();
  fast_.join();
}

absl::StatusOr<std::unique_ptr<UnixSocketServer>> StartUnixSocketServer(const std::string& socket_path,
                                                                        const std::vector<grpc::Service*>& services) {
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path))
    return absl::InvalidArgumentError(absl::StrCat("socket path ", socket_path, " is too long for a Unix socket"));
  std::string dir = socket_path.substr(0, socket_path.rfind('/'));
  struct stat st;
  if (stat(dir.empty() ? "/" : dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return absl::FailedPreconditionError(absl::StrCat("plugin directory ", dir, " does not exist"));
  if (access(dir.c_str(), W_OK | X_OK) != 0)
    return absl::PermissionDeniedError(
        absl::StrCat("plugin directory ", dir, " is not writable by uid ", geteuid(),
                     "; the sidecar must run as the instance manager's user and own the /plugins volume"));
  if (lstat(socket_path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return absl::AlreadyExistsError(absl::StrCat(socket_path, " exists and is not a socket; refusing to replace it"));
    if (SocketIsLive(socket_path))
      return absl::AlreadyExistsError(
          absl::StrCat("another server is already listening on ", socket_path, "; refusing to take it over"));
    // Left by a server that died (the emptyDir outlives container restarts).
    if (unlink(socket_path.c_str()) != 0)
      return absl::PermissionDeniedError(
          absl::StrCat("cannot remove stale socket ", socket_path, ": ", std::strerror(errno)));
  }
  // No grpc.health.v1 service: nobody calls it (CNPG probes with Identity/Probe) and, callback-based in
  // gRPC 1.51, it costs every connection about a tenth of a CNPG call (bench/go_overhead.sh).
  grpc::ServerBuilder builder;
  // gRPC would otherwise silently share or steal the address.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(absl::StrCat("unix:", socket_path), grpc::InsecureServerCredentials());
  std::vector<FastMethods*> fast;
  for (grpc::Service* s : services) {
    if (auto* f = dynamic_cast<FastMethods*>(s)) {
      f->MarkFastMethods();
      fast.push_back(f);
    }
    builder.RegisterService(s);
  }
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  // Only the instance manager's user (the same UID) may connect.
  mode_t old = umask(0177);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  umask(old);
  if (!server) return absl::UnavailableError(absl::StrCat("cannot listen on ", socket_path));
  chmod(socket_path.c_str(), 0600);
  for (FastMethods* f : fast) f->ArmFastMethods(cq.get());
  return std::make_unique<UnixSocketServer>(std::move(server), std::move(cq));
}

absl::Status ProbeUnixSocket(const std::string& socket_path, std::chrono::milliseconds timeout) {
  auto channel = grpc::CreateChannel(absl::StrCat("unix://", socket_path), grpc::InsecureChannelCredentials());
  auto stub = cnpgi::identity::v1::Identity::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  cnpgi::identity::v1::ProbeRequest req;
  cnpgi::identity::v1::ProbeResponse resp;
  grpc::Status s = stub->Probe(&ctx, req, &resp);
  if (!s.ok()) return absl::UnavailableError(absl::StrCat("no answer on ", socket_path, ": ", s.error_message()));
  return absl::OkStatus();
}

}  // namespace cnpgi_pgbackrest
