// TLS 1.3 mutual-TLS termination in front of a gRPC server on a private Unix socket.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace cnpgi_pgbackrest {

struct TlsFrontOptions {
  std::string address;      // host:port to listen on; ":port" for all IPv4 addresses
  std::string server_cert;  // re-read when the file changes (rotation without restart)
  std::string server_key;
  std::string client_cert;  // trusted client certificate(s); a self-signed leaf is pinned
  std::string backend;      // Unix socket of the plaintext gRPC server
};

// gRPC 1.51 cannot require TLS 1.3; OpenSSL in front of it can. Connections that are not TLS 1.3,
// present no certificate, or one that the client certificate file does not vouch for, never reach gRPC.
class TlsFront {
 public:
  static absl::StatusOr<std::unique_ptr<TlsFront>> Start(TlsFrontOptions options);
  ~TlsFront();

 private:
  explicit TlsFront(TlsFrontOptions options) : options_(std::move(options)) {}
  // The TLS context for the files as they are now; rebuilt when any of them changed.
  absl::StatusOr<std::shared_ptr<SSL_CTX>> Context();
  void AcceptLoop();
  void Serve(int client);

  TlsFrontOptions options_;
  int listener_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  absl::Mutex mu_;
  std::shared_ptr<SSL_CTX> context_ ABSL_GUARDED_BY(mu_);
  std::string context_stamp_ ABSL_GUARDED_BY(mu_);
};

}  // namespace cnpgi_pgbackrest
