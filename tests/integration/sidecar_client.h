// Direct CNPG-I calls to a sidecar socket, for the cases the stand-in cannot produce (bad input).
#pragma once

#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "wal.grpc.pb.h"

namespace cnpgi_it {

inline grpc::Status CallArchive(const std::string& socket, const std::string& cluster, const std::string& path,
                                std::optional<bool> check_empty = false) {
  auto stub = cnpgi::wal::v1::WAL::NewStub(grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials()));
  cnpgi::wal::v1::WALArchiveRequest req;
  req.set_cluster_definition(cluster);
  req.set_source_file_name(path);
  if (check_empty) req.set_check_empty_wal_archive(*check_empty);
  cnpgi::wal::v1::WALArchiveResult res;
  grpc::ClientContext ctx;
  return stub->Archive(&ctx, req, &res);
}

inline grpc::Status CallRestore(const std::string& socket, const std::string& cluster, const std::string& name,
                                const std::string& dest) {
  auto stub = cnpgi::wal::v1::WAL::NewStub(grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials()));
  cnpgi::wal::v1::WALRestoreRequest req;
  req.set_cluster_definition(cluster);
  req.set_source_wal_name(name);
  req.set_destination_file_name(dest);
  req.set_mode(cnpgi::wal::v1::WALRestoreRequest::MODE_RECOVERY);
  cnpgi::wal::v1::WALRestoreResult res;
  grpc::ClientContext ctx;
  return stub->Restore(&ctx, req, &res);
}

}  // namespace cnpgi_it
