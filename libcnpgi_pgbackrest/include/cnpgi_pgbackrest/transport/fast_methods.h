// Cheap methods answered on the server's completion-queue thread instead of its synchronous pool.
// CNPG dials a new connection for every archive_command and calls four cheap methods (plugin
// metadata, plugin capabilities, the service's capabilities, Probe) before Archive; handing each of
// them to the synchronous pool costs about a tenth of the whole call (bench/README.md, "Per-call
// overhead"). The adapters in this library implement this; servers started with
// StartUnixSocketServer or StartMutualTlsServer drive them, and an adapter registered on any other
// server keeps serving every method synchronously.
#pragma once

#include <grpcpp/grpcpp.h>

#include "cnpgi_pgbackrest/export.h"

namespace cnpgi_pgbackrest {

// A service with methods that never block (no I/O, no locks held for long): they run on the one
// thread that reads the server's completion queue.
class CNPGI_PGBACKREST_EXPORT FastMethods {
 public:
  virtual ~FastMethods() = default;
  // Before the service is registered: turns its fast methods asynchronous.
  virtual void MarkFastMethods() = 0;
  // Once the server runs: waits for their calls on cq (each call waits for the next one).
  virtual void ArmFastMethods(grpc::ServerCompletionQueue* cq) = 0;
};

// What the completion-queue thread hands an event to.
class CNPGI_PGBACKREST_EXPORT FastCall {
 public:
  virtual ~FastCall() = default;
  virtual void Proceed(bool ok) = 0;
};

}  // namespace cnpgi_pgbackrest
