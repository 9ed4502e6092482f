#include "transport/tls_front.h"

#include <cerrno>
#include <cstring>
#include <poll.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "common/log.h"
#include "common/status_macros.h"

namespace cnpgi_pgbackrest {
namespace {

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string Stamp(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "missing";
  return absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, ":", st.st_size, ":", st.st_ino);
}

// CNPG's client (Go crypto/tls, gRPC) speaks HTTP/2 and requires ALPN h2.
int SelectH2(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
             void*) {
  static const unsigned char h2[] = {'h', '2'};
  for (unsigned int i = 0; i < inlen; i += 1 + in[i])
    if (in[i] == 2 && i + 2 < inlen + 1 && std::memcmp(in + i + 1, h2, 2) == 0) {
      *out = in + i + 1;
      *outlen = 2;
      return SSL_TLSEXT_ERR_OK;
    }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int ConnectUnix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::shared_ptr<SSL_CTX>> TlsFront::Context() {
  std::string stamp =
      absl::StrCat(Stamp(options_.server_cert), "|", Stamp(options_.server_key), "|", Stamp(options_.client_cert));
  absl::MutexLock lock(&mu_);
  if (context_ && stamp == context_stamp_) return context_;
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return absl::InternalError("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), options_.server_cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), options_.server_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1)
    return absl::FailedPreconditionError(
        absl::StrCat("server certificate/key ", options_.server_cert, ": ", OpensslError()));
  if (SSL_CTX_load_verify_locations(ctx.get(), options_.client_cert.c_str(), nullptr) != 1)
    return absl::FailedPreconditionError(
        absl::StrCat("client certificate ", options_.client_cert, ": ", OpensslError()));
  // A certificate in the trust file is an anchor by itself (Go accepts a pinned leaf the same way).
  X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx.get()), X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  SSL_CTX_set_alpn_select_cb(ctx.get(), SelectH2, nullptr);
  if (context_) Log("info", "TLS certificates reloaded", {{"server_cert", options_.server_cert}});
  context_ = ctx;
  context_stamp_ = stamp;
  return ctx;
}

absl::StatusOr<std::unique_ptr<TlsFront>> TlsFront::Start(TlsFrontOptions options) {
  std::unique_ptr<TlsFront> front(new TlsFront(std::move(options)));
  ASSIGN_OR_RETURN(auto ctx, front->Context());
  std::string host = "0.0.0.0";
  std::string port_text = front->options_.address;
  if (auto colon = port_text.rfind(':'); colon != std::string::npos) {
    if (colon > 0) host = port_text.substr(0, colon);
    port_text = port_text.substr(colon + 1);
  }
  int port = 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (!absl::SimpleAtoi(port_text, &port) || port < 1 || port > 65535 ||
      inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1)
    return absl::InvalidArgumentError(
        absl::StrCat("--server-address '", front->options_.address, "' is not an IPv4 host:port or :port"));
  addr.sin_port = htons(static_cast<uint16_t>(port));
  front->listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(front->listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(front->listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(front->listener_, 64) != 0)
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", front->options_.address, ": ", std::strerror(errno)));
  front->acceptor_ = std::thread(&TlsFront::AcceptLoop, front.get());
  return front;
}

TlsFront::~TlsFront() {
  stopping_ = true;
  if (listener_ >= 0) shutdown(listener_, SHUT_RDWR);
  if (acceptor_.joinable()) acceptor_.join();
  if (listener_ >= 0) close(listener_);
  while (connections_ > 0) usleep(10000);
}

void TlsFront::AcceptLoop() {
  while (!stopping_) {
    pollfd p{listener_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int client = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    ++connections_;
    std::thread(&TlsFront::Serve, this, client).detach();
  }
}

void TlsFront::Serve(int client) {
  struct Done {
    TlsFront* f;
    int fd;
    ~Done() {
      close(fd);
      --f->connections_;
    }
  } done{this, client};
  auto ctx = Context();
  if (!ctx.ok()) {
    Log("error", "TLS context", {{"error", ctx.status().message()}});
    return;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx->get()), SSL_free);
  SSL_set_fd(ssl.get(), client);
  timeval handshake_timeout{10, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &handshake_timeout, sizeof handshake_timeout);
  if (SSL_accept(ssl.get()) != 1) {
    Log("warning", "TLS handshake refused", {{"error", OpensslError()}});
    return;
  }
  timeval none{0, 0};
  setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  int backend = ConnectUnix(options_.backend);
  if (backend < 0) return;
  char buf[16384];
  while (!stopping_) {
    pollfd fds[2] = {{client, POLLIN, 0}, {backend, POLLIN, 0}};
    if (SSL_pending(ssl.get()) == 0 && poll(fds, 2, 500) <= 0) continue;
    if (SSL_pending(ssl.get()) > 0 || (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      int n = SSL_read(ssl.get(), buf, sizeof buf);
      if (n <= 0) {
        int e = SSL_get_error(ssl.get(), n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) continue;
        break;
      }
      if (send(backend, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(backend, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (SSL_write(ssl.get(), buf, static_cast<int>(n)) != n) break;
    }
  }
  SSL_shutdown(ssl.get());
  close(backend);
}

}  // namespace cnpgi_pgbackrest
