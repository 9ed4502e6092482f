// Termination signals for a plugin process: SIGTERM (Kubernetes stopping the Pod) and SIGINT.
#pragma once

#include <grpcpp/grpcpp.h>

#include "cnpgi_pgbackrest/export.h"
#include "cnpgi_pgbackrest/transport/unix_socket_server.h"

namespace cnpgi_pgbackrest {

// Blocks SIGTERM and SIGINT in this thread and every thread started after it (and ignores
// SIGPIPE), so that only WaitForTerminationSignal sees them. Call before starting any thread.
CNPGI_PGBACKREST_EXPORT void BlockTerminationSignals();

// Returns the signal once one arrives.
CNPGI_PGBACKREST_EXPORT int WaitForTerminationSignal();

// Serves until SIGTERM or SIGINT, then shuts the server down (in-flight calls get 10 s).
CNPGI_PGBACKREST_EXPORT void ServeUntilTerminated(grpc::Server& server);
CNPGI_PGBACKREST_EXPORT void ServeUntilTerminated(UnixSocketServer& server);

}  // namespace cnpgi_pgbackrest
