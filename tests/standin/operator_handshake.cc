// Stand-in for CloudNativePG's operator opening a plugin connection (reference cnpgi-protocol.md
// §2.5): mutual TLS with the server CA and a client key pair, the target name overridden to the
// Service name, then GetPluginMetadata and GetPluginCapabilities. Used from outside a container
// (tests/images/check.sh), where the doctest harness of tests/integration/ does not run.
//
//   cnpgi-operator-handshake --address=HOST:PORT --ca=F --server-name=NAME [--cert=F --key=F]
//
// Prints "name version" and then one capability per line; exits 0 when the handshake succeeds,
// 1 with the gRPC error when it does not.
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "identity.grpc.pb.h"

namespace {

namespace id = cnpgi::identity::v1;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "operator-handshake: cannot read " << path << "\n";
    std::exit(2);
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Failed(const grpc::Status& s, const char* rpc) {
  if (s.ok()) return false;
  std::cerr << "operator-handshake: " << rpc << ": code " << s.error_code() << ": " << s.error_message() << "\n";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address, ca, cert, key, server_name;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto take = [&](const char* flag, std::string* out) {
      std::string prefix = std::string(flag) + "=";
      if (a.rfind(prefix, 0) != 0) return false;
      *out = a.substr(prefix.size());
      return true;
    };
    if (!take("--address", &address) && !take("--ca", &ca) && !take("--cert", &cert) && !take("--key", &key) &&
        !take("--server-name", &server_name)) {
      std::cerr << "operator-handshake: unknown argument " << a << "\n";
      return 2;
    }
  }
  if (address.empty() || ca.empty() || server_name.empty()) {
    std::cerr << "operator-handshake: --address, --ca and --server-name are required\n";
    return 2;
  }
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = ReadFile(ca);
  if (!cert.empty()) {
    tls.pem_cert_chain = ReadFile(cert);
    tls.pem_private_key = ReadFile(key);
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(server_name);
  auto channel = grpc::CreateCustomChannel(address, grpc::SslCredentials(tls), args);
  auto identity = id::Identity::NewStub(channel);
  auto deadline = [] { return std::chrono::system_clock::now() + std::chrono::seconds(5); };

  grpc::ClientContext c1;
  c1.set_deadline(deadline());
  id::GetPluginMetadataResponse meta;
  if (Failed(identity->GetPluginMetadata(&c1, {}, &meta), "GetPluginMetadata")) return 1;
  grpc::ClientContext c2;
  c2.set_deadline(deadline());
  id::GetPluginCapabilitiesResponse caps;
  if (Failed(identity->GetPluginCapabilities(&c2, {}, &caps), "GetPluginCapabilities")) return 1;
  std::cout << meta.name() << " " << meta.version() << "\n";
  for (const auto& c : caps.capabilities())
    std::cout << id::PluginCapability::Service::Type_Name(c.service().type()) << "\n";
  return 0;
}
