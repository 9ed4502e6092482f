// Checks that the generated CNPG-I code matches the v0.6.0 wire contract
// (../shared/reference/cnpgi-protocol.md, sections 1.0-1.10): gRPC method paths and
// request/response types, every message and enum against a golden descriptor dump
// (tests/unit/protocol.golden), presence, wire bytes, package quirks, and the C++
// namespace rename of cnpgi.operator.v1.

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <doctest/doctest.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include "backup.grpc.pb.h"
#include "identity.grpc.pb.h"
#include "metrics.grpc.pb.h"
#include "operator.grpc.pb.h"
#include "operator_lifecycle.grpc.pb.h"
#include "postgres.grpc.pb.h"
#include "reconciler.grpc.pb.h"
#include "restore_job.grpc.pb.h"
#include "wal.grpc.pb.h"

namespace {

namespace pb = google::protobuf;

namespace idv1 = cnpgi::identity::v1;   // identity.proto + postgres.proto
namespace opv1 = cnpgi::operator_::v1;  // operator.proto (renamed namespace)
namespace lcv1 = cnpgi::operator_lifecycle::v1;
namespace walv1 = cnpgi::wal::v1;  // wal.proto + restore_job.proto
namespace bkv1 = cnpgi::backup::v1;
namespace rcv1 = cnpgi::reconciler::v1;
namespace mtv1 = cnpgi::metrics::v1;

// ---------------------------------------------------------------------------
// Expected contract
// ---------------------------------------------------------------------------

struct FileSpec {
  std::string file;
  std::string package;
  std::string go_package;
  std::string service;  // full name of the single service in the file
};

const std::vector<FileSpec> kFiles = {
    {"identity.proto", "cnpgi.identity.v1", "github.com/cloudnative-pg/cnpg-i/pkg/identity",
     "cnpgi.identity.v1.Identity"},
    {"operator.proto", "cnpgi.operator.v1", "github.com/cloudnative-pg/cnpg-i/pkg/operator",
     "cnpgi.operator.v1.Operator"},
    {"operator_lifecycle.proto", "cnpgi.operator_lifecycle.v1", "github.com/cloudnative-pg/cnpg-i/pkg/lifecycle",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycle"},
    {"wal.proto", "cnpgi.wal.v1", "github.com/cloudnative-pg/cnpg-i/pkg/wal", "cnpgi.wal.v1.WAL"},
    {"backup.proto", "cnpgi.backup.v1", "github.com/cloudnative-pg/cnpg-i/pkg/backup", "cnpgi.backup.v1.Backup"},
    // Quirk: restore_job.proto lives in package cnpgi.wal.v1.
    {"restore_job.proto", "cnpgi.wal.v1", "github.com/cloudnative-pg/cnpg-i/pkg/restore/job",
     "cnpgi.wal.v1.RestoreJobHooks"},
    {"reconciler.proto", "cnpgi.reconciler.v1", "github.com/cloudnative-pg/cnpg-i/pkg/reconciler",
     "cnpgi.reconciler.v1.ReconcilerHooks"},
    // Quirk: postgres.proto lives in package cnpgi.identity.v1.
    {"postgres.proto", "cnpgi.identity.v1", "github.com/cloudnative-pg/cnpg-i/pkg/postgres",
     "cnpgi.identity.v1.Postgres"},
    {"metrics.proto", "cnpgi.metrics.v1", "github.com/cloudnative-pg/cnpg-i/pkg/metrics", "cnpgi.metrics.v1.Metrics"},
};

struct MethodSpec {
  std::string path;  // "/package.Service/Method"
  std::string input;
  std::string output;
};

// Section 1.1 (paths) and 1.2-1.10 (request/response types).
const std::vector<MethodSpec> kMethods = {
    {"/cnpgi.identity.v1.Identity/GetPluginMetadata", "cnpgi.identity.v1.GetPluginMetadataRequest",
     "cnpgi.identity.v1.GetPluginMetadataResponse"},
    {"/cnpgi.identity.v1.Identity/GetPluginCapabilities", "cnpgi.identity.v1.GetPluginCapabilitiesRequest",
     "cnpgi.identity.v1.GetPluginCapabilitiesResponse"},
    {"/cnpgi.identity.v1.Identity/Probe", "cnpgi.identity.v1.ProbeRequest", "cnpgi.identity.v1.ProbeResponse"},

    {"/cnpgi.operator.v1.Operator/GetCapabilities", "cnpgi.operator.v1.OperatorCapabilitiesRequest",
     "cnpgi.operator.v1.OperatorCapabilitiesResult"},
    {"/cnpgi.operator.v1.Operator/ValidateClusterCreate", "cnpgi.operator.v1.OperatorValidateClusterCreateRequest",
     "cnpgi.operator.v1.OperatorValidateClusterCreateResult"},
    {"/cnpgi.operator.v1.Operator/ValidateClusterChange", "cnpgi.operator.v1.OperatorValidateClusterChangeRequest",
     "cnpgi.operator.v1.OperatorValidateClusterChangeResult"},
    {"/cnpgi.operator.v1.Operator/MutateCluster", "cnpgi.operator.v1.OperatorMutateClusterRequest",
     "cnpgi.operator.v1.OperatorMutateClusterResult"},
    {"/cnpgi.operator.v1.Operator/SetStatusInCluster", "cnpgi.operator.v1.SetStatusInClusterRequest",
     "cnpgi.operator.v1.SetStatusInClusterResponse"},
    {"/cnpgi.operator.v1.Operator/Deregister", "cnpgi.operator.v1.DeregisterRequest",
     "cnpgi.operator.v1.DeregisterResponse"},

    {"/cnpgi.operator_lifecycle.v1.OperatorLifecycle/GetCapabilities",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleCapabilitiesRequest",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleCapabilitiesResponse"},
    {"/cnpgi.operator_lifecycle.v1.OperatorLifecycle/LifecycleHook",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleRequest", "cnpgi.operator_lifecycle.v1.OperatorLifecycleResponse"},

    {"/cnpgi.wal.v1.WAL/GetCapabilities", "cnpgi.wal.v1.WALCapabilitiesRequest", "cnpgi.wal.v1.WALCapabilitiesResult"},
    {"/cnpgi.wal.v1.WAL/Archive", "cnpgi.wal.v1.WALArchiveRequest", "cnpgi.wal.v1.WALArchiveResult"},
    {"/cnpgi.wal.v1.WAL/Restore", "cnpgi.wal.v1.WALRestoreRequest", "cnpgi.wal.v1.WALRestoreResult"},
    {"/cnpgi.wal.v1.WAL/Status", "cnpgi.wal.v1.WALStatusRequest", "cnpgi.wal.v1.WALStatusResult"},
    {"/cnpgi.wal.v1.WAL/SetFirstRequired", "cnpgi.wal.v1.SetFirstRequiredRequest",
     "cnpgi.wal.v1.SetFirstRequiredResult"},

    {"/cnpgi.backup.v1.Backup/GetCapabilities", "cnpgi.backup.v1.BackupCapabilitiesRequest",
     "cnpgi.backup.v1.BackupCapabilitiesResult"},
    {"/cnpgi.backup.v1.Backup/Backup", "cnpgi.backup.v1.BackupRequest", "cnpgi.backup.v1.BackupResult"},

    {"/cnpgi.wal.v1.RestoreJobHooks/GetCapabilities", "cnpgi.wal.v1.RestoreJobHooksCapabilitiesRequest",
     "cnpgi.wal.v1.RestoreJobHooksCapabilitiesResult"},
    {"/cnpgi.wal.v1.RestoreJobHooks/Restore", "cnpgi.wal.v1.RestoreRequest", "cnpgi.wal.v1.RestoreResponse"},

    {"/cnpgi.reconciler.v1.ReconcilerHooks/GetCapabilities", "cnpgi.reconciler.v1.ReconcilerHooksCapabilitiesRequest",
     "cnpgi.reconciler.v1.ReconcilerHooksCapabilitiesResult"},
    {"/cnpgi.reconciler.v1.ReconcilerHooks/Pre", "cnpgi.reconciler.v1.ReconcilerHooksRequest",
     "cnpgi.reconciler.v1.ReconcilerHooksResult"},
    {"/cnpgi.reconciler.v1.ReconcilerHooks/Post", "cnpgi.reconciler.v1.ReconcilerHooksRequest",
     "cnpgi.reconciler.v1.ReconcilerHooksResult"},

    {"/cnpgi.identity.v1.Postgres/GetCapabilities", "cnpgi.identity.v1.PostgresCapabilitiesRequest",
     "cnpgi.identity.v1.PostgresCapabilitiesResult"},
    {"/cnpgi.identity.v1.Postgres/EnrichConfiguration", "cnpgi.identity.v1.EnrichConfigurationRequest",
     "cnpgi.identity.v1.EnrichConfigurationResult"},

    {"/cnpgi.metrics.v1.Metrics/GetCapabilities", "cnpgi.metrics.v1.MetricsCapabilitiesRequest",
     "cnpgi.metrics.v1.MetricsCapabilitiesResult"},
    {"/cnpgi.metrics.v1.Metrics/Define", "cnpgi.metrics.v1.DefineMetricsRequest",
     "cnpgi.metrics.v1.DefineMetricsResult"},
    {"/cnpgi.metrics.v1.Metrics/Collect", "cnpgi.metrics.v1.CollectMetricsRequest",
     "cnpgi.metrics.v1.CollectMetricsResult"},
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Touch one generated message per file so that its object file is linked from
// the static library and its descriptor is registered in the generated pool.
const pb::FileDescriptor* LinkedFile(const std::string& file) {
  static const std::map<std::string, const pb::FileDescriptor*> files = {
      {"identity.proto", idv1::ProbeRequest::descriptor()->file()},
      {"operator.proto", opv1::DeregisterRequest::descriptor()->file()},
      {"operator_lifecycle.proto", lcv1::OperatorLifecycleRequest::descriptor()->file()},
      {"wal.proto", walv1::WALArchiveRequest::descriptor()->file()},
      {"backup.proto", bkv1::BackupRequest::descriptor()->file()},
      {"restore_job.proto", walv1::RestoreRequest::descriptor()->file()},
      {"reconciler.proto", rcv1::ReconcilerHooksRequest::descriptor()->file()},
      {"postgres.proto", idv1::EnrichConfigurationRequest::descriptor()->file()},
      {"metrics.proto", mtv1::Metric::descriptor()->file()},
  };
  auto it = files.find(file);
  return it == files.end() ? nullptr : it->second;
}

const pb::DescriptorPool* Pool() { return pb::DescriptorPool::generated_pool(); }

void ClearJsonNames(pb::DescriptorProto& m) {
  for (auto& f : *m.mutable_field()) f.clear_json_name();
  for (auto& n : *m.mutable_nested_type()) ClearJsonNames(n);
}

// The nine files as descriptors (source locations and derived JSON names left out): what the
// golden file holds.
std::string DescriptorText() {
  std::string out;
  for (const FileSpec& spec : kFiles) {
    pb::FileDescriptorProto proto;
    LinkedFile(spec.file)->CopyTo(&proto);
    proto.clear_source_code_info();
    for (auto& m : *proto.mutable_message_type()) ClearJsonNames(m);
    out += "# " + spec.file + "\n" + proto.DebugString();
  }
  return out;
}

template <class T>
std::string Serialize(const T& m) {
  std::string out;
  REQUIRE(m.SerializeToString(&out));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------
// Files, packages, services, methods
// ---------------------------------------------------------------------------

TEST_CASE("protocol: nine proto3 files with the CNPG-I packages, go_package and no imports") {
  CHECK(kFiles.size() == 9);
  for (const FileSpec& spec : kFiles) {
    CAPTURE(spec.file);
    const pb::FileDescriptor* file = LinkedFile(spec.file);
    REQUIRE(file != nullptr);
    CHECK(Pool()->FindFileByName(spec.file) == file);
    CHECK(file->name() == spec.file);
    CHECK(file->syntax() == pb::FileDescriptor::SYNTAX_PROTO3);
    CHECK(file->package() == spec.package);
    CHECK(file->options().go_package() == spec.go_package);
    CHECK(file->dependency_count() == 0);
    CHECK(file->extension_count() == 0);
    REQUIRE(file->service_count() == 1);
    CHECK(file->service(0)->full_name() == spec.service);
  }
}

TEST_CASE("protocol: all 28 gRPC methods, their paths and their message types") {
  REQUIRE(kMethods.size() == 28);

  std::map<std::string, const pb::MethodDescriptor*> found;
  for (const FileSpec& spec : kFiles) {
    const pb::FileDescriptor* file = LinkedFile(spec.file);
    REQUIRE(file != nullptr);
    for (int s = 0; s < file->service_count(); ++s) {
      const pb::ServiceDescriptor* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        const pb::MethodDescriptor* method = service->method(m);
        const std::string path = "/" + service->full_name() + "/" + method->name();
        CAPTURE(path);
        CHECK(found.emplace(path, method).second);  // no duplicates
        CHECK(method->full_name() == service->full_name() + "." + method->name());
        // Every RPC is unary.
        CHECK_FALSE(method->client_streaming());
        CHECK_FALSE(method->server_streaming());
      }
    }
  }
  CHECK(found.size() == 28);

  for (const MethodSpec& spec : kMethods) {
    CAPTURE(spec.path);
    auto it = found.find(spec.path);
    REQUIRE(it != found.end());
    CHECK(it->second->input_type()->full_name() == spec.input);
    CHECK(it->second->output_type()->full_name() == spec.output);
    // The pool resolves the method by its dotted full name as well.
    std::string dotted = spec.path.substr(1);
    dotted[dotted.find('/')] = '.';
    CHECK(Pool()->FindMethodByName(dotted) == it->second);
  }

  // The generated gRPC classes know the same service names.
  CHECK(std::string(idv1::Identity::service_full_name()) == "cnpgi.identity.v1.Identity");
  CHECK(std::string(opv1::Operator::service_full_name()) == "cnpgi.operator.v1.Operator");
  CHECK(std::string(lcv1::OperatorLifecycle::service_full_name()) == "cnpgi.operator_lifecycle.v1.OperatorLifecycle");
  CHECK(std::string(walv1::WAL::service_full_name()) == "cnpgi.wal.v1.WAL");
  CHECK(std::string(bkv1::Backup::service_full_name()) == "cnpgi.backup.v1.Backup");
  CHECK(std::string(walv1::RestoreJobHooks::service_full_name()) == "cnpgi.wal.v1.RestoreJobHooks");
  CHECK(std::string(rcv1::ReconcilerHooks::service_full_name()) == "cnpgi.reconciler.v1.ReconcilerHooks");
  CHECK(std::string(idv1::Postgres::service_full_name()) == "cnpgi.identity.v1.Postgres");
  CHECK(std::string(mtv1::Metrics::service_full_name()) == "cnpgi.metrics.v1.Metrics");
}

// ---------------------------------------------------------------------------
// Messages and enums
// ---------------------------------------------------------------------------

TEST_CASE("protocol: every message, field, enum and value equals the golden descriptors") {
  // tests/unit/protocol.golden was checked field by field against the wire contract
  // (../shared/reference/cnpgi-protocol.md, sections 1.2-1.10). A change to protos/ must change
  // it too, visibly: CNPGI_UPDATE_GOLDEN=1 build/tests/protocol_test rewrites it.
  const std::string golden_path = std::string(CNPGI_SOURCE_DIR) + "/tests/unit/protocol.golden";
  const std::string actual = DescriptorText();
  if (std::getenv("CNPGI_UPDATE_GOLDEN")) std::ofstream(golden_path) << actual;
  std::ifstream in(golden_path);
  REQUIRE_MESSAGE(in.good(), "missing " << golden_path);
  std::string golden((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(actual == golden);
}

TEST_CASE("protocol: the numbering gaps of the contract") {
  // The explicit gap: OperatorCapability.RPC.Type has no 4.
  const pb::EnumDescriptor* op_type = opv1::OperatorCapability_RPC_Type_descriptor();
  CHECK(op_type->FindValueByNumber(4) == nullptr);
  CHECK_FALSE(opv1::OperatorCapability_RPC_Type_IsValid(4));
  CHECK(opv1::OperatorCapability_RPC_Type_IsValid(5));
  CHECK(opv1::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER == 5);
  CHECK(opv1::OperatorCapability::RPC::TYPE_DEREGISTER == 6);

  // WALStatusResult has fields 1, 2, 4 and no 3.
  const pb::Descriptor* status = walv1::WALStatusResult::descriptor();
  CHECK(status->FindFieldByNumber(3) == nullptr);
  CHECK(status->FindFieldByNumber(4) != nullptr);
  if (status->FindFieldByNumber(4) != nullptr) {
    CHECK(status->FindFieldByNumber(4)->name() == "additional_information");
  }
}

// ---------------------------------------------------------------------------
// proto3 optional, wire bytes and the C++ namespace of operator.proto
// ---------------------------------------------------------------------------

TEST_CASE("protocol: check_empty_wal_archive has explicit presence (proto3 optional)") {
  for (const pb::Descriptor* d : {walv1::WALArchiveRequest::descriptor(), walv1::RestoreRequest::descriptor()}) {
    CAPTURE(d->full_name());
    const pb::FieldDescriptor* f = d->FindFieldByName("check_empty_wal_archive");
    REQUIRE(f != nullptr);
    CHECK(f->type() == pb::FieldDescriptor::TYPE_BOOL);
    CHECK(f->has_presence());
    CHECK(f->has_optional_keyword());
    REQUIRE(f->containing_oneof() != nullptr);
    CHECK(f->containing_oneof()->is_synthetic());
    CHECK(f->real_containing_oneof() == nullptr);
  }

  walv1::WALArchiveRequest archive;
  CHECK_FALSE(archive.has_check_empty_wal_archive());
  CHECK(Serialize(archive).empty());
  archive.set_check_empty_wal_archive(false);
  CHECK(archive.has_check_empty_wal_archive());
  // An explicitly set `false` is on the wire: tag (4 << 3 | 0) = 0x20, value 0.
  CHECK(Serialize(archive) == std::string("\x20\x00", 2));

  walv1::RestoreRequest restore;
  CHECK_FALSE(restore.has_check_empty_wal_archive());
  restore.set_check_empty_wal_archive(false);
  CHECK(Serialize(restore) == std::string("\x10\x00", 2));

  // And an unset value parses back as unset.
  walv1::RestoreRequest parsed;
  REQUIRE(parsed.ParseFromString(std::string()));
  CHECK_FALSE(parsed.has_check_empty_wal_archive());
  REQUIRE(parsed.ParseFromString(std::string("\x10\x01", 2)));
  CHECK(parsed.has_check_empty_wal_archive());
  CHECK(parsed.check_empty_wal_archive());
}

TEST_CASE("protocol: a few messages serialize to the expected bytes") {
  // oneof wrapper == plain message field 1.
  idv1::PluginCapability cap;
  cap.mutable_service()->set_type(idv1::PluginCapability::Service::TYPE_WAL_SERVICE);
  CHECK(Serialize(cap) == std::string("\x0a\x02\x08\x02", 4));

  opv1::OperatorCapability op;
  op.mutable_rpc()->set_type(opv1::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER);
  CHECK(Serialize(op) == std::string("\x0a\x02\x08\x05", 4));

  // Map field number 4: tag 0x22, entry {1: "a", 2: "b"}.
  walv1::WALStatusResult status;
  (*status.mutable_additional_information())["a"] = "b";
  CHECK(Serialize(status) == std::string("\x22\x06\x0a\x01"
                                         "a"
                                         "\x12\x01"
                                         "b",
                                         8));

  // RestoreJobHooksCapability carries the enum directly in field 1.
  walv1::RestoreJobHooksCapability rj;
  rj.set_kind(walv1::RestoreJobHooksCapability::KIND_RESTORE);
  CHECK(Serialize(rj) == std::string("\x08\x01", 2));

  walv1::WALRestoreRequest restore;
  restore.set_mode(walv1::WALRestoreRequest::MODE_REWIND);
  CHECK(Serialize(restore) == std::string("\x28\x02", 2));

  mtv1::Metric metric;
  metric.mutable_value_type()->set_type(mtv1::MetricType::TYPE_GAUGE);
  CHECK(Serialize(metric) == std::string("\x2a\x02\x08\x02", 4));
}

TEST_CASE("protocol: operator.proto lives in C++ namespace cnpgi::operator_::v1") {
  static_assert(std::is_base_of_v<pb::Message, cnpgi::operator_::v1::OperatorCapability>);
  static_assert(std::is_base_of_v<pb::Message, cnpgi::operator_::v1::SetStatusInClusterResponse>);
  static_assert(std::is_class_v<cnpgi::operator_::v1::Operator::Service>);
  static_assert(std::is_class_v<cnpgi::operator_::v1::Operator::Stub>);

  CHECK(cnpgi::operator_::v1::OperatorCapability::descriptor()->full_name() == "cnpgi.operator.v1.OperatorCapability");
  const pb::ServiceDescriptor* service = Pool()->FindServiceByName("cnpgi.operator.v1.Operator");
  REQUIRE(service != nullptr);
  CHECK(service->full_name() == "cnpgi.operator.v1.Operator");
  CHECK(service->file() == cnpgi::operator_::v1::OperatorCapability::descriptor()->file());
  CHECK(std::string(cnpgi::operator_::v1::Operator::service_full_name()) == "cnpgi.operator.v1.Operator");
  CHECK(cnpgi::operator_::v1::SetStatusInClusterRequest().GetTypeName() ==
        "cnpgi.operator.v1.SetStatusInClusterRequest");
}

// ---------------------------------------------------------------------------
// The method-name strings compiled into the gRPC stubs and services
// ---------------------------------------------------------------------------

namespace {

// Records the method path of every call a stub starts.
class RecordingFactory final : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateClientInterceptor(grpc::experimental::ClientRpcInfo* info) override {
    std::lock_guard<std::mutex> lock(mu_);
    paths_.emplace_back(info->method() != nullptr ? info->method() : "<null>");
    unary_.push_back(info->type() == grpc::experimental::ClientRpcInfo::Type::UNARY);
    return nullptr;  // observe only
  }

  std::vector<std::pair<std::string, bool>> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::string, bool>> out;
    for (size_t i = 0; i < paths_.size(); ++i) out.emplace_back(paths_[i], unary_[i]);
    paths_.clear();
    unary_.clear();
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> paths_;
  std::vector<bool> unary_;
};

// Every handler answers ABORTED with "/<service>/<method>" spelled here,
// independently of the generated code. A call only gets this answer if the
// server routed the stub's path to exactly this handler.
grpc::Status Reached(const char* service, const char* method) {
  return grpc::Status(grpc::StatusCode::ABORTED, std::string("/") + service + "/" + method);
}

#define CNPGI_HANDLER(Method, Req, Resp) \
  grpc::Status Method(grpc::ServerContext*, const Req*, Resp*) override { return Reached(kName, #Method); }

struct IdentityImpl final : idv1::Identity::Service {
  static constexpr const char* kName = "cnpgi.identity.v1.Identity";
  CNPGI_HANDLER(GetPluginMetadata, idv1::GetPluginMetadataRequest, idv1::GetPluginMetadataResponse)
  CNPGI_HANDLER(GetPluginCapabilities, idv1::GetPluginCapabilitiesRequest, idv1::GetPluginCapabilitiesResponse)
  CNPGI_HANDLER(Probe, idv1::ProbeRequest, idv1::ProbeResponse)
};

struct OperatorImpl final : opv1::Operator::Service {
  static constexpr const char* kName = "cnpgi.operator.v1.Operator";
  CNPGI_HANDLER(GetCapabilities, opv1::OperatorCapabilitiesRequest, opv1::OperatorCapabilitiesResult)
  CNPGI_HANDLER(ValidateClusterCreate, opv1::OperatorValidateClusterCreateRequest,
                opv1::OperatorValidateClusterCreateResult)
  CNPGI_HANDLER(ValidateClusterChange, opv1::OperatorValidateClusterChangeRequest,
                opv1::OperatorValidateClusterChangeResult)
  CNPGI_HANDLER(MutateCluster, opv1::OperatorMutateClusterRequest, opv1::OperatorMutateClusterResult)
  CNPGI_HANDLER(SetStatusInCluster, opv1::SetStatusInClusterRequest, opv1::SetStatusInClusterResponse)
  CNPGI_HANDLER(Deregister, opv1::DeregisterRequest, opv1::DeregisterResponse)
};

struct LifecycleImpl final : lcv1::OperatorLifecycle::Service {
  static constexpr const char* kName = "cnpgi.operator_lifecycle.v1.OperatorLifecycle";
  CNPGI_HANDLER(GetCapabilities, lcv1::OperatorLifecycleCapabilitiesRequest,
                lcv1::OperatorLifecycleCapabilitiesResponse)
  CNPGI_HANDLER(LifecycleHook, lcv1::OperatorLifecycleRequest, lcv1::OperatorLifecycleResponse)
};

struct WalImpl final : walv1::WAL::Service {
  static constexpr const char* kName = "cnpgi.wal.v1.WAL";
  CNPGI_HANDLER(GetCapabilities, walv1::WALCapabilitiesRequest, walv1::WALCapabilitiesResult)
  CNPGI_HANDLER(Archive, walv1::WALArchiveRequest, walv1::WALArchiveResult)
  CNPGI_HANDLER(Restore, walv1::WALRestoreRequest, walv1::WALRestoreResult)
  CNPGI_HANDLER(Status, walv1::WALStatusRequest, walv1::WALStatusResult)
  CNPGI_HANDLER(SetFirstRequired, walv1::SetFirstRequiredRequest, walv1::SetFirstRequiredResult)
};

struct BackupImpl final : bkv1::Backup::Service {
  static constexpr const char* kName = "cnpgi.backup.v1.Backup";
  CNPGI_HANDLER(GetCapabilities, bkv1::BackupCapabilitiesRequest, bkv1::BackupCapabilitiesResult)
  CNPGI_HANDLER(Backup, bkv1::BackupRequest, bkv1::BackupResult)
};

struct RestoreJobImpl final : walv1::RestoreJobHooks::Service {
  static constexpr const char* kName = "cnpgi.wal.v1.RestoreJobHooks";
  CNPGI_HANDLER(GetCapabilities, walv1::RestoreJobHooksCapabilitiesRequest, walv1::RestoreJobHooksCapabilitiesResult)
  CNPGI_HANDLER(Restore, walv1::RestoreRequest, walv1::RestoreResponse)
};

struct ReconcilerImpl final : rcv1::ReconcilerHooks::Service {
  static constexpr const char* kName = "cnpgi.reconciler.v1.ReconcilerHooks";
  CNPGI_HANDLER(GetCapabilities, rcv1::ReconcilerHooksCapabilitiesRequest, rcv1::ReconcilerHooksCapabilitiesResult)
  CNPGI_HANDLER(Pre, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult)
  CNPGI_HANDLER(Post, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult)
};

struct PostgresImpl final : idv1::Postgres::Service {
  static constexpr const char* kName = "cnpgi.identity.v1.Postgres";
  CNPGI_HANDLER(GetCapabilities, idv1::PostgresCapabilitiesRequest, idv1::PostgresCapabilitiesResult)
  CNPGI_HANDLER(EnrichConfiguration, idv1::EnrichConfigurationRequest, idv1::EnrichConfigurationResult)
};

struct MetricsImpl final : mtv1::Metrics::Service {
  static constexpr const char* kName = "cnpgi.metrics.v1.Metrics";
  CNPGI_HANDLER(GetCapabilities, mtv1::MetricsCapabilitiesRequest, mtv1::MetricsCapabilitiesResult)
  CNPGI_HANDLER(Define, mtv1::DefineMetricsRequest, mtv1::DefineMetricsResult)
  CNPGI_HANDLER(Collect, mtv1::CollectMetricsRequest, mtv1::CollectMetricsResult)
};

#undef CNPGI_HANDLER

}  // namespace

TEST_CASE("protocol: stubs send and services accept exactly the 28 method paths") {
  IdentityImpl identity;
  OperatorImpl op;
  LifecycleImpl lifecycle;
  WalImpl wal;
  BackupImpl backup;
  RestoreJobImpl restore_job;
  ReconcilerImpl reconciler;
  PostgresImpl postgres;
  MetricsImpl metrics;

  grpc::ServerBuilder builder;  // no ports: in-process only
  for (grpc::Service* s : std::initializer_list<grpc::Service*>{&identity, &op, &lifecycle, &wal, &backup, &restore_job,
                                                                &reconciler, &postgres, &metrics}) {
    builder.RegisterService(s);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);

  auto factory_owned = std::make_unique<RecordingFactory>();
  RecordingFactory* recorder = factory_owned.get();
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::move(factory_owned));
  std::shared_ptr<grpc::Channel> channel =
      server->experimental().InProcessChannelWithInterceptors(grpc::ChannelArguments(), std::move(factories));
  REQUIRE(channel != nullptr);

  auto identity_stub = idv1::Identity::NewStub(channel);
  auto op_stub = opv1::Operator::NewStub(channel);
  auto lifecycle_stub = lcv1::OperatorLifecycle::NewStub(channel);
  auto wal_stub = walv1::WAL::NewStub(channel);
  auto backup_stub = bkv1::Backup::NewStub(channel);
  auto restore_job_stub = walv1::RestoreJobHooks::NewStub(channel);
  auto reconciler_stub = rcv1::ReconcilerHooks::NewStub(channel);
  auto postgres_stub = idv1::Postgres::NewStub(channel);
  auto metrics_stub = mtv1::Metrics::NewStub(channel);

  std::set<std::string> called;
  auto check_call = [&](const std::string& expected_path,
                        const std::function<grpc::Status(grpc::ClientContext*)>& call) {
    CAPTURE(expected_path);
    recorder->Take();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    const grpc::Status status = call(&ctx);
    // Path string compiled into the stub.
    const auto seen = recorder->Take();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].first == expected_path);
    CHECK(seen[0].second);  // unary
    // Path string registered by the generated Service: the call reached our handler.
    CHECK(status.error_code() == grpc::StatusCode::ABORTED);
    CHECK(status.error_message() == expected_path);
    CHECK(called.insert(expected_path).second);
  };

#define CNPGI_CALL(stub, Method, Req, Resp, path) \
  check_call(path, [&](grpc::ClientContext* c) {  \
    Req req;                                      \
    Resp resp;                                    \
    return (stub)->Method(c, req, &resp);         \
  })

  CNPGI_CALL(identity_stub, GetPluginMetadata, idv1::GetPluginMetadataRequest, idv1::GetPluginMetadataResponse,
             "/cnpgi.identity.v1.Identity/GetPluginMetadata");
  CNPGI_CALL(identity_stub, GetPluginCapabilities, idv1::GetPluginCapabilitiesRequest,
             idv1::GetPluginCapabilitiesResponse, "/cnpgi.identity.v1.Identity/GetPluginCapabilities");
  CNPGI_CALL(identity_stub, Probe, idv1::ProbeRequest, idv1::ProbeResponse, "/cnpgi.identity.v1.Identity/Probe");

  CNPGI_CALL(op_stub, GetCapabilities, opv1::OperatorCapabilitiesRequest, opv1::OperatorCapabilitiesResult,
             "/cnpgi.operator.v1.Operator/GetCapabilities");
  CNPGI_CALL(op_stub, ValidateClusterCreate, opv1::OperatorValidateClusterCreateRequest,
             opv1::OperatorValidateClusterCreateResult, "/cnpgi.operator.v1.Operator/ValidateClusterCreate");
  CNPGI_CALL(op_stub, ValidateClusterChange, opv1::OperatorValidateClusterChangeRequest,
             opv1::OperatorValidateClusterChangeResult, "/cnpgi.operator.v1.Operator/ValidateClusterChange");
  CNPGI_CALL(op_stub, MutateCluster, opv1::OperatorMutateClusterRequest, opv1::OperatorMutateClusterResult,
             "/cnpgi.operator.v1.Operator/MutateCluster");
  CNPGI_CALL(op_stub, SetStatusInCluster, opv1::SetStatusInClusterRequest, opv1::SetStatusInClusterResponse,
             "/cnpgi.operator.v1.Operator/SetStatusInCluster");
  CNPGI_CALL(op_stub, Deregister, opv1::DeregisterRequest, opv1::DeregisterResponse,
             "/cnpgi.operator.v1.Operator/Deregister");

  CNPGI_CALL(lifecycle_stub, GetCapabilities, lcv1::OperatorLifecycleCapabilitiesRequest,
             lcv1::OperatorLifecycleCapabilitiesResponse,
             "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/GetCapabilities");
  CNPGI_CALL(lifecycle_stub, LifecycleHook, lcv1::OperatorLifecycleRequest, lcv1::OperatorLifecycleResponse,
             "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/LifecycleHook");

  CNPGI_CALL(wal_stub, GetCapabilities, walv1::WALCapabilitiesRequest, walv1::WALCapabilitiesResult,
             "/cnpgi.wal.v1.WAL/GetCapabilities");
  CNPGI_CALL(wal_stub, Archive, walv1::WALArchiveRequest, walv1::WALArchiveResult, "/cnpgi.wal.v1.WAL/Archive");
  CNPGI_CALL(wal_stub, Restore, walv1::WALRestoreRequest, walv1::WALRestoreResult, "/cnpgi.wal.v1.WAL/Restore");
  CNPGI_CALL(wal_stub, Status, walv1::WALStatusRequest, walv1::WALStatusResult, "/cnpgi.wal.v1.WAL/Status");
  CNPGI_CALL(wal_stub, SetFirstRequired, walv1::SetFirstRequiredRequest, walv1::SetFirstRequiredResult,
             "/cnpgi.wal.v1.WAL/SetFirstRequired");

  CNPGI_CALL(backup_stub, GetCapabilities, bkv1::BackupCapabilitiesRequest, bkv1::BackupCapabilitiesResult,
             "/cnpgi.backup.v1.Backup/GetCapabilities");
  CNPGI_CALL(backup_stub, Backup, bkv1::BackupRequest, bkv1::BackupResult, "/cnpgi.backup.v1.Backup/Backup");

  CNPGI_CALL(restore_job_stub, GetCapabilities, walv1::RestoreJobHooksCapabilitiesRequest,
             walv1::RestoreJobHooksCapabilitiesResult, "/cnpgi.wal.v1.RestoreJobHooks/GetCapabilities");
  CNPGI_CALL(restore_job_stub, Restore, walv1::RestoreRequest, walv1::RestoreResponse,
             "/cnpgi.wal.v1.RestoreJobHooks/Restore");

  CNPGI_CALL(reconciler_stub, GetCapabilities, rcv1::ReconcilerHooksCapabilitiesRequest,
             rcv1::ReconcilerHooksCapabilitiesResult, "/cnpgi.reconciler.v1.ReconcilerHooks/GetCapabilities");
  CNPGI_CALL(reconciler_stub, Pre, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult,
             "/cnpgi.reconciler.v1.ReconcilerHooks/Pre");
  CNPGI_CALL(reconciler_stub, Post, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult,
             "/cnpgi.reconciler.v1.ReconcilerHooks/Post");

  CNPGI_CALL(postgres_stub, GetCapabilities, idv1::PostgresCapabilitiesRequest, idv1::PostgresCapabilitiesResult,
             "/cnpgi.identity.v1.Postgres/GetCapabilities");
  CNPGI_CALL(postgres_stub, EnrichConfiguration, idv1::EnrichConfigurationRequest, idv1::EnrichConfigurationResult,
             "/cnpgi.identity.v1.Postgres/EnrichConfiguration");

  CNPGI_CALL(metrics_stub, GetCapabilities, mtv1::MetricsCapabilitiesRequest, mtv1::MetricsCapabilitiesResult,
             "/cnpgi.metrics.v1.Metrics/GetCapabilities");
  CNPGI_CALL(metrics_stub, Define, mtv1::DefineMetricsRequest, mtv1::DefineMetricsResult,
             "/cnpgi.metrics.v1.Metrics/Define");
  CNPGI_CALL(metrics_stub, Collect, mtv1::CollectMetricsRequest, mtv1::CollectMetricsResult,
             "/cnpgi.metrics.v1.Metrics/Collect");

#undef CNPGI_CALL

  // Exactly the table of section 1.1.
  std::set<std::string> expected;
  for (const MethodSpec& m : kMethods) expected.insert(m.path);
  CHECK(called == expected);

  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
}
