#include "cnpgi_pgbackrest/plugin/termination.h"

#include <chrono>
#include <csignal>
#include <pthread.h>
#include <thread>

namespace cnpgi_pgbackrest {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client gone mid-answer must not end the process.
  std::signal(SIGPIPE, SIG_IGN);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

void ServeUntilTerminated(grpc::Server& server) {
  std::thread waiter([&server] {
    WaitForTerminationSignal();
    server.Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
  });
  server.Wait();
  waiter.join();
}

void ServeUntilTerminated(UnixSocketServer& server) { ServeUntilTerminated(server.server()); }

}  // namespace cnpgi_pgbackrest
