// Checks that the generated CNPG-I code matches the v0.6.0 wire contract
// (/work/shared/reference/cnpgi-protocol.md, sections 1.0-1.10): gRPC method
// paths, request/response types, every message field (number, name, type,
// label, oneof, presence), every enum value, package quirks, and the C++
// namespace rename of cnpgi.operator.v1.

#include <doctest/doctest.h>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_interceptor.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

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

namespace idv1 = cnpgi::identity::v1;      // identity.proto + postgres.proto
namespace opv1 = cnpgi::operator_::v1;     // operator.proto (renamed namespace)
namespace lcv1 = cnpgi::operator_lifecycle::v1;
namespace walv1 = cnpgi::wal::v1;          // wal.proto + restore_job.proto
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
    {"operator_lifecycle.proto", "cnpgi.operator_lifecycle.v1",
     "github.com/cloudnative-pg/cnpg-i/pkg/lifecycle",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycle"},
    {"wal.proto", "cnpgi.wal.v1", "github.com/cloudnative-pg/cnpg-i/pkg/wal", "cnpgi.wal.v1.WAL"},
    {"backup.proto", "cnpgi.backup.v1", "github.com/cloudnative-pg/cnpg-i/pkg/backup",
     "cnpgi.backup.v1.Backup"},
    // Quirk: restore_job.proto lives in package cnpgi.wal.v1.
    {"restore_job.proto", "cnpgi.wal.v1", "github.com/cloudnative-pg/cnpg-i/pkg/restore/job",
     "cnpgi.wal.v1.RestoreJobHooks"},
    {"reconciler.proto", "cnpgi.reconciler.v1", "github.com/cloudnative-pg/cnpg-i/pkg/reconciler",
     "cnpgi.reconciler.v1.ReconcilerHooks"},
    // Quirk: postgres.proto lives in package cnpgi.identity.v1.
    {"postgres.proto", "cnpgi.identity.v1", "github.com/cloudnative-pg/cnpg-i/pkg/postgres",
     "cnpgi.identity.v1.Postgres"},
    {"metrics.proto", "cnpgi.metrics.v1", "github.com/cloudnative-pg/cnpg-i/pkg/metrics",
     "cnpgi.metrics.v1.Metrics"},
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
    {"/cnpgi.identity.v1.Identity/GetPluginCapabilities",
     "cnpgi.identity.v1.GetPluginCapabilitiesRequest",
     "cnpgi.identity.v1.GetPluginCapabilitiesResponse"},
    {"/cnpgi.identity.v1.Identity/Probe", "cnpgi.identity.v1.ProbeRequest",
     "cnpgi.identity.v1.ProbeResponse"},

    {"/cnpgi.operator.v1.Operator/GetCapabilities", "cnpgi.operator.v1.OperatorCapabilitiesRequest",
     "cnpgi.operator.v1.OperatorCapabilitiesResult"},
    {"/cnpgi.operator.v1.Operator/ValidateClusterCreate",
     "cnpgi.operator.v1.OperatorValidateClusterCreateRequest",
     "cnpgi.operator.v1.OperatorValidateClusterCreateResult"},
    {"/cnpgi.operator.v1.Operator/ValidateClusterChange",
     "cnpgi.operator.v1.OperatorValidateClusterChangeRequest",
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
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleRequest",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleResponse"},

    {"/cnpgi.wal.v1.WAL/GetCapabilities", "cnpgi.wal.v1.WALCapabilitiesRequest",
     "cnpgi.wal.v1.WALCapabilitiesResult"},
    {"/cnpgi.wal.v1.WAL/Archive", "cnpgi.wal.v1.WALArchiveRequest", "cnpgi.wal.v1.WALArchiveResult"},
    {"/cnpgi.wal.v1.WAL/Restore", "cnpgi.wal.v1.WALRestoreRequest", "cnpgi.wal.v1.WALRestoreResult"},
    {"/cnpgi.wal.v1.WAL/Status", "cnpgi.wal.v1.WALStatusRequest", "cnpgi.wal.v1.WALStatusResult"},
    {"/cnpgi.wal.v1.WAL/SetFirstRequired", "cnpgi.wal.v1.SetFirstRequiredRequest",
     "cnpgi.wal.v1.SetFirstRequiredResult"},

    {"/cnpgi.backup.v1.Backup/GetCapabilities", "cnpgi.backup.v1.BackupCapabilitiesRequest",
     "cnpgi.backup.v1.BackupCapabilitiesResult"},
    {"/cnpgi.backup.v1.Backup/Backup", "cnpgi.backup.v1.BackupRequest",
     "cnpgi.backup.v1.BackupResult"},

    {"/cnpgi.wal.v1.RestoreJobHooks/GetCapabilities",
     "cnpgi.wal.v1.RestoreJobHooksCapabilitiesRequest",
     "cnpgi.wal.v1.RestoreJobHooksCapabilitiesResult"},
    {"/cnpgi.wal.v1.RestoreJobHooks/Restore", "cnpgi.wal.v1.RestoreRequest",
     "cnpgi.wal.v1.RestoreResponse"},

    {"/cnpgi.reconciler.v1.ReconcilerHooks/GetCapabilities",
     "cnpgi.reconciler.v1.ReconcilerHooksCapabilitiesRequest",
     "cnpgi.reconciler.v1.ReconcilerHooksCapabilitiesResult"},
    {"/cnpgi.reconciler.v1.ReconcilerHooks/Pre", "cnpgi.reconciler.v1.ReconcilerHooksRequest",
     "cnpgi.reconciler.v1.ReconcilerHooksResult"},
    {"/cnpgi.reconciler.v1.ReconcilerHooks/Post", "cnpgi.reconciler.v1.ReconcilerHooksRequest",
     "cnpgi.reconciler.v1.ReconcilerHooksResult"},

    {"/cnpgi.identity.v1.Postgres/GetCapabilities", "cnpgi.identity.v1.PostgresCapabilitiesRequest",
     "cnpgi.identity.v1.PostgresCapabilitiesResult"},
    {"/cnpgi.identity.v1.Postgres/EnrichConfiguration",
     "cnpgi.identity.v1.EnrichConfigurationRequest", "cnpgi.identity.v1.EnrichConfigurationResult"},

    {"/cnpgi.metrics.v1.Metrics/GetCapabilities", "cnpgi.metrics.v1.MetricsCapabilitiesRequest",
     "cnpgi.metrics.v1.MetricsCapabilitiesResult"},
    {"/cnpgi.metrics.v1.Metrics/Define", "cnpgi.metrics.v1.DefineMetricsRequest",
     "cnpgi.metrics.v1.DefineMetricsResult"},
    {"/cnpgi.metrics.v1.Metrics/Collect", "cnpgi.metrics.v1.CollectMetricsRequest",
     "cnpgi.metrics.v1.CollectMetricsResult"},
};

// A field is written as "<number> <name> <type>" where <type> is
//   a scalar type name ("string", "bytes", "int64", "bool", "double"),
//   "." + full name of a message or enum,
//   "map<K,V>",
// optionally prefixed by "repeated ", "optional " (proto3 optional) or
// "oneof(<name>) " (member of a real oneof).
struct MessageSpec {
  std::string file;
  std::string name;  // full name
  std::vector<std::string> fields;
};

const std::vector<MessageSpec> kMessages = {
    // 1.2 identity.proto
    {"identity.proto", "cnpgi.identity.v1.GetPluginMetadataRequest", {}},
    {"identity.proto",
     "cnpgi.identity.v1.GetPluginMetadataResponse",
     {"1 name string", "2 version string", "3 display_name string", "4 description string",
      "5 project_url string", "6 repository_url string", "7 license string",
      "8 license_url string", "9 maturity string", "10 vendor string",
      "11 manifest map<string,string>"}},
    {"identity.proto", "cnpgi.identity.v1.GetPluginCapabilitiesRequest", {}},
    {"identity.proto",
     "cnpgi.identity.v1.GetPluginCapabilitiesResponse",
     {"1 capabilities repeated .cnpgi.identity.v1.PluginCapability"}},
    {"identity.proto",
     "cnpgi.identity.v1.PluginCapability",
     {"1 service oneof(type) .cnpgi.identity.v1.PluginCapability.Service"}},
    {"identity.proto",
     "cnpgi.identity.v1.PluginCapability.Service",
     {"1 type .cnpgi.identity.v1.PluginCapability.Service.Type"}},
    {"identity.proto", "cnpgi.identity.v1.ProbeRequest", {}},
    {"identity.proto", "cnpgi.identity.v1.ProbeResponse", {"1 ready bool"}},

    // 1.3 operator.proto
    {"operator.proto", "cnpgi.operator.v1.OperatorCapabilitiesRequest", {}},
    {"operator.proto",
     "cnpgi.operator.v1.OperatorCapabilitiesResult",
     {"1 capabilities repeated .cnpgi.operator.v1.OperatorCapability"}},
    {"operator.proto", "cnpgi.operator.v1.OperatorValidateClusterCreateRequest", {"1 definition bytes"}},
    {"operator.proto",
     "cnpgi.operator.v1.OperatorValidateClusterCreateResult",
     {"1 validation_errors repeated .cnpgi.operator.v1.ValidationError"}},
    {"operator.proto",
     "cnpgi.operator.v1.OperatorValidateClusterChangeRequest",
     {"1 old_cluster bytes", "2 new_cluster bytes"}},
    {"operator.proto",
     "cnpgi.operator.v1.OperatorValidateClusterChangeResult",
     {"1 validation_errors repeated .cnpgi.operator.v1.ValidationError"}},
    {"operator.proto", "cnpgi.operator.v1.OperatorMutateClusterRequest", {"1 definition bytes"}},
    {"operator.proto", "cnpgi.operator.v1.OperatorMutateClusterResult", {"1 json_patch bytes"}},
    {"operator.proto", "cnpgi.operator.v1.DeregisterRequest", {"1 definition bytes"}},
    {"operator.proto", "cnpgi.operator.v1.DeregisterResponse", {}},
    {"operator.proto",
     "cnpgi.operator.v1.ValidationError",
     {"1 path_components repeated string", "2 value string", "3 message string"}},
    {"operator.proto",
     "cnpgi.operator.v1.OperatorCapability",
     {"1 rpc oneof(type) .cnpgi.operator.v1.OperatorCapability.RPC"}},
    {"operator.proto",
     "cnpgi.operator.v1.OperatorCapability.RPC",
     {"1 type .cnpgi.operator.v1.OperatorCapability.RPC.Type"}},
    {"operator.proto", "cnpgi.operator.v1.SetStatusInClusterRequest", {"1 cluster bytes"}},
    {"operator.proto", "cnpgi.operator.v1.SetStatusInClusterResponse", {"1 json_status bytes"}},

    // 1.4 operator_lifecycle.proto
    {"operator_lifecycle.proto", "cnpgi.operator_lifecycle.v1.OperatorLifecycleCapabilitiesRequest", {}},
    {"operator_lifecycle.proto",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleCapabilitiesResponse",
     {"1 lifecycle_capabilities repeated .cnpgi.operator_lifecycle.v1.OperatorLifecycleCapabilities"}},
    {"operator_lifecycle.proto",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleCapabilities",
     {"1 group string", "2 kind string",
      "3 operation_types repeated .cnpgi.operator_lifecycle.v1.OperatorOperationType"}},
    {"operator_lifecycle.proto",
     "cnpgi.operator_lifecycle.v1.OperatorOperationType",
     {"1 type .cnpgi.operator_lifecycle.v1.OperatorOperationType.Type"}},
    {"operator_lifecycle.proto",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleRequest",
     {"1 operation_type .cnpgi.operator_lifecycle.v1.OperatorOperationType",
      "2 cluster_definition bytes", "3 object_definition bytes"}},
    {"operator_lifecycle.proto",
     "cnpgi.operator_lifecycle.v1.OperatorLifecycleResponse",
     {"1 json_patch bytes"}},

    // 1.5 wal.proto
    {"wal.proto",
     "cnpgi.wal.v1.WALArchiveRequest",
     {"1 cluster_definition bytes", "2 source_file_name string",
      "3 parameters map<string,string>", "4 check_empty_wal_archive optional bool"}},
    {"wal.proto", "cnpgi.wal.v1.WALArchiveResult", {}},
    {"wal.proto",
     "cnpgi.wal.v1.WALRestoreRequest",
     {"1 cluster_definition bytes", "2 source_wal_name string", "3 destination_file_name string",
      "4 parameters map<string,string>", "5 mode .cnpgi.wal.v1.WALRestoreRequest.Mode"}},
    {"wal.proto", "cnpgi.wal.v1.WALRestoreResult", {}},
    {"wal.proto", "cnpgi.wal.v1.WALStatusRequest", {"1 cluster_definition bytes"}},
    {"wal.proto",
     "cnpgi.wal.v1.WALStatusResult",
     {"1 first_wal string", "2 last_wal string", "4 additional_information map<string,string>"}},
    {"wal.proto",
     "cnpgi.wal.v1.SetFirstRequiredRequest",
     {"1 cluster_definition bytes", "2 first_required_wal string"}},
    {"wal.proto", "cnpgi.wal.v1.SetFirstRequiredResult", {}},
    {"wal.proto", "cnpgi.wal.v1.WALCapabilitiesRequest", {}},
    {"wal.proto",
     "cnpgi.wal.v1.WALCapabilitiesResult",
     {"1 capabilities repeated .cnpgi.wal.v1.WALCapability"}},
    {"wal.proto", "cnpgi.wal.v1.WALCapability", {"1 rpc oneof(type) .cnpgi.wal.v1.WALCapability.RPC"}},
    {"wal.proto", "cnpgi.wal.v1.WALCapability.RPC", {"1 type .cnpgi.wal.v1.WALCapability.RPC.Type"}},

    // 1.6 backup.proto
    {"backup.proto", "cnpgi.backup.v1.BackupCapabilitiesRequest", {}},
    {"backup.proto",
     "cnpgi.backup.v1.BackupCapabilitiesResult",
     {"1 capabilities repeated .cnpgi.backup.v1.BackupCapability"}},
    {"backup.proto",
     "cnpgi.backup.v1.BackupCapability",
     {"1 rpc oneof(type) .cnpgi.backup.v1.BackupCapability.RPC"}},
    {"backup.proto",
     "cnpgi.backup.v1.BackupCapability.RPC",
     {"1 type .cnpgi.backup.v1.BackupCapability.RPC.Type"}},
    {"backup.proto",
     "cnpgi.backup.v1.BackupRequest",
     {"1 cluster_definition bytes", "2 backup_definition bytes", "3 parameters map<string,string>"}},
    {"backup.proto",
     "cnpgi.backup.v1.BackupResult",
     {"1 backup_id string", "2 backup_name string", "3 started_at int64", "4 stopped_at int64",
      "5 begin_wal string", "6 end_wal string", "7 begin_lsn string", "8 end_lsn string",
      "9 backup_label_file bytes", "10 tablespace_map_file bytes", "11 instance_id string",
      "12 online bool", "13 metadata map<string,string>"}},

    // 1.7 restore_job.proto (package cnpgi.wal.v1)
    {"restore_job.proto", "cnpgi.wal.v1.RestoreJobHooksCapabilitiesRequest", {}},
    {"restore_job.proto",
     "cnpgi.wal.v1.RestoreJobHooksCapabilitiesResult",
     {"1 capabilities repeated .cnpgi.wal.v1.RestoreJobHooksCapability"}},
    {"restore_job.proto",
     "cnpgi.wal.v1.RestoreJobHooksCapability",
     {"1 kind .cnpgi.wal.v1.RestoreJobHooksCapability.Kind"}},
    {"restore_job.proto",
     "cnpgi.wal.v1.RestoreRequest",
     {"1 cluster_definition bytes", "2 check_empty_wal_archive optional bool"}},
    {"restore_job.proto",
     "cnpgi.wal.v1.RestoreResponse",
     {"1 restore_config string", "2 envs repeated string"}},

    // 1.8 reconciler.proto
    {"reconciler.proto", "cnpgi.reconciler.v1.ReconcilerHooksCapabilitiesRequest", {}},
    {"reconciler.proto",
     "cnpgi.reconciler.v1.ReconcilerHooksCapabilitiesResult",
     {"1 reconciler_capabilities repeated .cnpgi.reconciler.v1.ReconcilerHooksCapability"}},
    {"reconciler.proto",
     "cnpgi.reconciler.v1.ReconcilerHooksCapability",
     {"1 kind .cnpgi.reconciler.v1.ReconcilerHooksCapability.Kind"}},
    {"reconciler.proto",
     "cnpgi.reconciler.v1.ReconcilerHooksRequest",
     {"1 cluster_definition bytes", "2 resource_definition bytes"}},
    {"reconciler.proto",
     "cnpgi.reconciler.v1.ReconcilerHooksResult",
     {"1 behavior .cnpgi.reconciler.v1.ReconcilerHooksResult.Behavior", "2 requeue_after int64"}},

    // 1.9 postgres.proto (package cnpgi.identity.v1)
    {"postgres.proto", "cnpgi.identity.v1.PostgresCapabilitiesRequest", {}},
    {"postgres.proto",
     "cnpgi.identity.v1.PostgresCapabilitiesResult",
     {"1 capabilities repeated .cnpgi.identity.v1.PostgresCapability"}},
    {"postgres.proto",
     "cnpgi.identity.v1.PostgresCapability",
     {"1 rpc oneof(type) .cnpgi.identity.v1.PostgresCapability.RPC"}},
    {"postgres.proto",
     "cnpgi.identity.v1.PostgresCapability.RPC",
     {"1 type .cnpgi.identity.v1.PostgresCapability.RPC.Type"}},
    {"postgres.proto", "cnpgi.identity.v1.OperationType", {"1 type .cnpgi.identity.v1.OperationType.Type"}},
    {"postgres.proto",
     "cnpgi.identity.v1.EnrichConfigurationRequest",
     {"1 configs map<string,string>", "2 cluster_definition bytes",
      "3 operation_type .cnpgi.identity.v1.OperationType"}},
    {"postgres.proto",
     "cnpgi.identity.v1.EnrichConfigurationResult",
     {"1 configs map<string,string>"}},

    // 1.10 metrics.proto
    {"metrics.proto", "cnpgi.metrics.v1.CollectMetricsRequest", {"1 cluster_definition bytes"}},
    {"metrics.proto",
     "cnpgi.metrics.v1.CollectMetric",
     {"1 value double", "2 fq_name string", "3 variable_labels repeated string"}},
    {"metrics.proto",
     "cnpgi.metrics.v1.CollectMetricsResult",
     {"1 metrics repeated .cnpgi.metrics.v1.CollectMetric"}},
    {"metrics.proto", "cnpgi.metrics.v1.DefineMetricsRequest", {"1 cluster_definition bytes"}},
    {"metrics.proto",
     "cnpgi.metrics.v1.DefineMetricsResult",
     {"1 metrics repeated .cnpgi.metrics.v1.Metric"}},
    {"metrics.proto", "cnpgi.metrics.v1.MetricType", {"1 type .cnpgi.metrics.v1.MetricType.Type"}},
    {"metrics.proto",
     "cnpgi.metrics.v1.Metric",
     {"1 fq_name string", "2 help string", "3 variable_labels repeated string",
      "4 const_labels map<string,string>", "5 value_type .cnpgi.metrics.v1.MetricType"}},
    {"metrics.proto", "cnpgi.metrics.v1.MetricsCapabilitiesRequest", {}},
    {"metrics.proto",
     "cnpgi.metrics.v1.MetricsCapabilitiesResult",
     {"1 capabilities repeated .cnpgi.metrics.v1.MetricsCapability"}},
    {"metrics.proto",
     "cnpgi.metrics.v1.MetricsCapability",
     {"1 rpc oneof(type) .cnpgi.metrics.v1.MetricsCapability.RPC"}},
    {"metrics.proto",
     "cnpgi.metrics.v1.MetricsCapability.RPC",
     {"1 type .cnpgi.metrics.v1.MetricsCapability.RPC.Type"}},
};

struct EnumSpec {
  std::string file;
  std::string name;  // full name
  std::vector<std::pair<std::string, int>> values;
};

const std::vector<EnumSpec> kEnums = {
    {"identity.proto",
     "cnpgi.identity.v1.PluginCapability.Service.Type",
     {{"TYPE_UNSPECIFIED", 0},
      {"TYPE_OPERATOR_SERVICE", 1},
      {"TYPE_WAL_SERVICE", 2},
      {"TYPE_BACKUP_SERVICE", 3},
      {"TYPE_LIFECYCLE_SERVICE", 4},
      {"TYPE_RECONCILER_HOOKS", 5},
      {"TYPE_RESTORE_JOB", 6},
      {"TYPE_POSTGRES", 7},
      {"TYPE_INSTANCE_SIDECAR_INJECTION", 8},
      {"TYPE_INSTANCE_JOB_SIDECAR_INJECTION", 9},
      {"TYPE_METRICS", 10}}},
    // No value 4 (removed MUTATE_POD).
    {"operator.proto",
     "cnpgi.operator.v1.OperatorCapability.RPC.Type",
     {{"TYPE_UNSPECIFIED", 0},
      {"TYPE_VALIDATE_CLUSTER_CREATE", 1},
      {"TYPE_VALIDATE_CLUSTER_CHANGE", 2},
      {"TYPE_MUTATE_CLUSTER", 3},
      {"TYPE_SET_STATUS_IN_CLUSTER", 5},
      {"TYPE_DEREGISTER", 6}}},
    {"operator_lifecycle.proto",
     "cnpgi.operator_lifecycle.v1.OperatorOperationType.Type",
     {{"TYPE_UNSPECIFIED", 0},
      {"TYPE_PATCH", 1},
      {"TYPE_UPDATE", 2},
      {"TYPE_CREATE", 3},
      {"TYPE_DELETE", 4},
      {"TYPE_DEREGISTER", 5},
      {"TYPE_EVALUATE", 6}}},
    {"wal.proto",
     "cnpgi.wal.v1.WALRestoreRequest.Mode",
     {{"MODE_UNSPECIFIED", 0}, {"MODE_RECOVERY", 1}, {"MODE_REWIND", 2}}},
    {"wal.proto",
     "cnpgi.wal.v1.WALCapability.RPC.Type",
     {{"TYPE_UNSPECIFIED", 0},
      {"TYPE_ARCHIVE_WAL", 1},
      {"TYPE_RESTORE_WAL", 2},
      {"TYPE_STATUS", 3},
      {"TYPE_SET_FIRST_REQUIRED", 4}}},
    {"backup.proto",
     "cnpgi.backup.v1.BackupCapability.RPC.Type",
     {{"TYPE_UNSPECIFIED", 0}, {"TYPE_BACKUP", 1}}},
    {"restore_job.proto",
     "cnpgi.wal.v1.RestoreJobHooksCapability.Kind",
     {{"KIND_UNSPECIFIED", 0}, {"KIND_RESTORE", 1}}},
    {"reconciler.proto",
     "cnpgi.reconciler.v1.ReconcilerHooksCapability.Kind",
     {{"KIND_UNSPECIFIED", 0}, {"KIND_CLUSTER", 1}, {"KIND_BACKUP", 2}}},
    {"reconciler.proto",
     "cnpgi.reconciler.v1.ReconcilerHooksResult.Behavior",
     {{"BEHAVIOR_UNSPECIFIED", 0},
      {"BEHAVIOR_CONTINUE", 1},
      {"BEHAVIOR_REQUEUE", 2},
      {"BEHAVIOR_TERMINATE", 3}}},
    {"postgres.proto",
     "cnpgi.identity.v1.PostgresCapability.RPC.Type",
     {{"TYPE_UNSPECIFIED", 0}, {"TYPE_ENRICH_CONFIGURATION", 1}}},
    {"postgres.proto",
     "cnpgi.identity.v1.OperationType.Type",
     {{"TYPE_UNSPECIFIED", 0},
      {"TYPE_INIT", 1},
      {"TYPE_RESTORE", 2},
      {"TYPE_RECONCILE", 3},
      {"TYPE_UPGRADE", 4}}},
    {"metrics.proto",
     "cnpgi.metrics.v1.MetricType.Type",
     {{"TYPE_UNSPECIFIED", 0}, {"TYPE_COUNTER", 1}, {"TYPE_GAUGE", 2}, {"TYPE_UNTYPED", 3}}},
    {"metrics.proto",
     "cnpgi.metrics.v1.MetricsCapability.RPC.Type",
     {{"TYPE_UNSPECIFIED", 0}, {"TYPE_METRICS", 1}}},
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

std::string TypeOf(const pb::FieldDescriptor* f) {
  switch (f->type()) {
    case pb::FieldDescriptor::TYPE_MESSAGE:
    case pb::FieldDescriptor::TYPE_GROUP:
      return "." + f->message_type()->full_name();
    case pb::FieldDescriptor::TYPE_ENUM:
      return "." + f->enum_type()->full_name();
    default:
      return f->type_name();
  }
}

// Renders a field in the notation used by kMessages.
std::string Signature(const pb::FieldDescriptor* f) {
  std::string s = std::to_string(f->number()) + " " + f->name() + " ";
  if (f->is_map()) {
    const pb::Descriptor* entry = f->message_type();
    return s + "map<" + TypeOf(entry->map_key()) + "," + TypeOf(entry->map_value()) + ">";
  }
  if (f->is_repeated()) s += "repeated ";
  if (f->has_optional_keyword()) s += "optional ";
  if (const pb::OneofDescriptor* o = f->real_containing_oneof()) s += "oneof(" + o->name() + ") ";
  return s + TypeOf(f);
}

void CollectMessages(const pb::Descriptor* d, std::set<std::string>& out) {
  if (d->options().map_entry()) return;
  out.insert(d->full_name());
  for (int i = 0; i < d->nested_type_count(); ++i) CollectMessages(d->nested_type(i), out);
}

void CollectEnums(const pb::Descriptor* d, std::set<std::string>& out) {
  for (int i = 0; i < d->enum_type_count(); ++i) out.insert(d->enum_type(i)->full_name());
  for (int i = 0; i < d->nested_type_count(); ++i) CollectEnums(d->nested_type(i), out);
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
  CHECK(std::string(lcv1::OperatorLifecycle::service_full_name()) ==
        "cnpgi.operator_lifecycle.v1.OperatorLifecycle");
  CHECK(std::string(walv1::WAL::service_full_name()) == "cnpgi.wal.v1.WAL");
  CHECK(std::string(bkv1::Backup::service_full_name()) == "cnpgi.backup.v1.Backup");
  CHECK(std::string(walv1::RestoreJobHooks::service_full_name()) == "cnpgi.wal.v1.RestoreJobHooks");
  CHECK(std::string(rcv1::ReconcilerHooks::service_full_name()) ==
        "cnpgi.reconciler.v1.ReconcilerHooks");
  CHECK(std::string(idv1::Postgres::service_full_name()) == "cnpgi.identity.v1.Postgres");
  CHECK(std::string(mtv1::Metrics::service_full_name()) == "cnpgi.metrics.v1.Metrics");
}

// ---------------------------------------------------------------------------
// Messages and enums
// ---------------------------------------------------------------------------

TEST_CASE("protocol: every message, field number, name, type, label, oneof and presence") {
  // Exactly the expected set of messages per file (map entries excluded).
  std::map<std::string, std::set<std::string>> expected_by_file;
  for (const MessageSpec& m : kMessages) {
    CHECK(expected_by_file[m.file].insert(m.name).second);
  }
  for (const FileSpec& spec : kFiles) {
    CAPTURE(spec.file);
    const pb::FileDescriptor* file = LinkedFile(spec.file);
    REQUIRE(file != nullptr);
    std::set<std::string> actual;
    for (int i = 0; i < file->message_type_count(); ++i) CollectMessages(file->message_type(i), actual);
    CHECK(actual == expected_by_file[spec.file]);
  }

  for (const MessageSpec& spec : kMessages) {
    CAPTURE(spec.name);
    const pb::Descriptor* msg = Pool()->FindMessageTypeByName(spec.name);
    CHECK(msg != nullptr);
    if (msg == nullptr) continue;
    CHECK(msg->file()->name() == spec.file);
    CHECK(msg->field_count() == static_cast<int>(spec.fields.size()));
    CHECK(msg->extension_range_count() == 0);

    std::set<std::string> real_oneofs;
    for (const std::string& expected : spec.fields) {
      CAPTURE(expected);
      const int number = std::stoi(expected.substr(0, expected.find(' ')));
      const pb::FieldDescriptor* f = msg->FindFieldByNumber(number);
      CHECK(f != nullptr);
      if (f == nullptr) continue;  // keep going: report every mismatch
      CHECK(Signature(f) == expected);

      // Labels: proto3 has no "required"; repeated (incl. maps) or optional.
      const bool repeated = expected.find(" repeated ") != std::string::npos ||
                            expected.find(" map<") != std::string::npos;
      CHECK(f->label() ==
            (repeated ? pb::FieldDescriptor::LABEL_REPEATED : pb::FieldDescriptor::LABEL_OPTIONAL));

      // Presence: proto3 `optional`, real oneof members and singular message
      // fields track presence; plain scalars, enums and repeated fields don't.
      const bool optional_kw = expected.find(" optional ") != std::string::npos;
      const bool in_oneof = expected.find(" oneof(") != std::string::npos;
      const bool singular_message = !repeated && f->type() == pb::FieldDescriptor::TYPE_MESSAGE;
      CHECK(f->has_presence() == (optional_kw || in_oneof || singular_message));
      CHECK(f->has_optional_keyword() == optional_kw);
      if (optional_kw) {
        // proto3 optional = a synthetic oneof named "_<field>".
        REQUIRE(f->containing_oneof() != nullptr);
        CHECK(f->containing_oneof()->is_synthetic());
        CHECK(f->containing_oneof()->name() == "_" + f->name());
        CHECK(f->real_containing_oneof() == nullptr);
      }
      if (in_oneof) {
        REQUIRE(f->real_containing_oneof() != nullptr);
        real_oneofs.insert(f->real_containing_oneof()->name());
      }
      if (f->is_map()) {
        CHECK(f->message_type()->options().map_entry());
        CHECK(f->message_type()->map_key()->type() == pb::FieldDescriptor::TYPE_STRING);
        CHECK(f->message_type()->map_value()->type() == pb::FieldDescriptor::TYPE_STRING);
      }
    }
    CHECK(msg->real_oneof_decl_count() == static_cast<int>(real_oneofs.size()));
    for (const std::string& name : real_oneofs) CHECK(name == "type");
  }
}

TEST_CASE("protocol: every enum and its values, including the numbering gaps") {
  std::map<std::string, std::set<std::string>> expected_by_file;
  for (const EnumSpec& e : kEnums) CHECK(expected_by_file[e.file].insert(e.name).second);
  for (const FileSpec& spec : kFiles) {
    CAPTURE(spec.file);
    const pb::FileDescriptor* file = LinkedFile(spec.file);
    REQUIRE(file != nullptr);
    CHECK(file->enum_type_count() == 0);  // all enums are nested
    std::set<std::string> actual;
    for (int i = 0; i < file->message_type_count(); ++i) CollectEnums(file->message_type(i), actual);
    CHECK(actual == expected_by_file[spec.file]);
  }

  for (const EnumSpec& spec : kEnums) {
    CAPTURE(spec.name);
    const pb::EnumDescriptor* e = Pool()->FindEnumTypeByName(spec.name);
    CHECK(e != nullptr);
    if (e == nullptr) continue;
    CHECK(e->file()->name() == spec.file);
    CHECK(e->value_count() == static_cast<int>(spec.values.size()));
    for (const auto& [name, number] : spec.values) {
      CAPTURE(name);
      const pb::EnumValueDescriptor* v = e->FindValueByName(name);
      CHECK(v != nullptr);
      if (v != nullptr) CHECK(v->number() == number);
    }
  }

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
  for (const pb::Descriptor* d :
       {walv1::WALArchiveRequest::descriptor(), walv1::RestoreRequest::descriptor()}) {
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
  CHECK(Serialize(status) == std::string("\x22\x06\x0a\x01" "a" "\x12\x01" "b", 8));

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

  CHECK(cnpgi::operator_::v1::OperatorCapability::descriptor()->full_name() ==
        "cnpgi.operator.v1.OperatorCapability");
  const pb::ServiceDescriptor* service = Pool()->FindServiceByName("cnpgi.operator.v1.Operator");
  REQUIRE(service != nullptr);
  CHECK(service->full_name() == "cnpgi.operator.v1.Operator");
  CHECK(service->file() == cnpgi::operator_::v1::OperatorCapability::descriptor()->file());
  CHECK(std::string(cnpgi::operator_::v1::Operator::service_full_name()) ==
        "cnpgi.operator.v1.Operator");
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
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
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

#define CNPGI_HANDLER(Method, Req, Resp)                                      \
  grpc::Status Method(grpc::ServerContext*, const Req*, Resp*) override {     \
    return Reached(kName, #Method);                                           \
  }

struct IdentityImpl final : idv1::Identity::Service {
  static constexpr const char* kName = "cnpgi.identity.v1.Identity";
  CNPGI_HANDLER(GetPluginMetadata, idv1::GetPluginMetadataRequest, idv1::GetPluginMetadataResponse)
  CNPGI_HANDLER(GetPluginCapabilities, idv1::GetPluginCapabilitiesRequest,
                idv1::GetPluginCapabilitiesResponse)
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
  CNPGI_HANDLER(GetCapabilities, walv1::RestoreJobHooksCapabilitiesRequest,
                walv1::RestoreJobHooksCapabilitiesResult)
  CNPGI_HANDLER(Restore, walv1::RestoreRequest, walv1::RestoreResponse)
};

struct ReconcilerImpl final : rcv1::ReconcilerHooks::Service {
  static constexpr const char* kName = "cnpgi.reconciler.v1.ReconcilerHooks";
  CNPGI_HANDLER(GetCapabilities, rcv1::ReconcilerHooksCapabilitiesRequest,
                rcv1::ReconcilerHooksCapabilitiesResult)
  CNPGI_HANDLER(Pre, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult)
  CNPGI_HANDLER(Post, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult)
};

struct PostgresImpl final : idv1::Postgres::Service {
  static constexpr const char* kName = "cnpgi.identity.v1.Postgres";
  CNPGI_HANDLER(GetCapabilities, idv1::PostgresCapabilitiesRequest, idv1::PostgresCapabilitiesResult)
  CNPGI_HANDLER(EnrichConfiguration, idv1::EnrichConfigurationRequest,
                idv1::EnrichConfigurationResult)
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
  for (grpc::Service* s : std::initializer_list<grpc::Service*>{
           &identity, &op, &lifecycle, &wal, &backup, &restore_job, &reconciler, &postgres,
           &metrics}) {
    builder.RegisterService(s);
  }
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  REQUIRE(server != nullptr);

  auto factory_owned = std::make_unique<RecordingFactory>();
  RecordingFactory* recorder = factory_owned.get();
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>> factories;
  factories.push_back(std::move(factory_owned));
  std::shared_ptr<grpc::Channel> channel = server->experimental().InProcessChannelWithInterceptors(
      grpc::ChannelArguments(), std::move(factories));
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

#define CNPGI_CALL(stub, Method, Req, Resp, path)                     \
  check_call(path, [&](grpc::ClientContext* c) {                       \
    Req req;                                                          \
    Resp resp;                                                        \
    return (stub)->Method(c, req, &resp);                             \
  })

  CNPGI_CALL(identity_stub, GetPluginMetadata, idv1::GetPluginMetadataRequest,
             idv1::GetPluginMetadataResponse, "/cnpgi.identity.v1.Identity/GetPluginMetadata");
  CNPGI_CALL(identity_stub, GetPluginCapabilities, idv1::GetPluginCapabilitiesRequest,
             idv1::GetPluginCapabilitiesResponse,
             "/cnpgi.identity.v1.Identity/GetPluginCapabilities");
  CNPGI_CALL(identity_stub, Probe, idv1::ProbeRequest, idv1::ProbeResponse,
             "/cnpgi.identity.v1.Identity/Probe");

  CNPGI_CALL(op_stub, GetCapabilities, opv1::OperatorCapabilitiesRequest,
             opv1::OperatorCapabilitiesResult, "/cnpgi.operator.v1.Operator/GetCapabilities");
  CNPGI_CALL(op_stub, ValidateClusterCreate, opv1::OperatorValidateClusterCreateRequest,
             opv1::OperatorValidateClusterCreateResult,
             "/cnpgi.operator.v1.Operator/ValidateClusterCreate");
  CNPGI_CALL(op_stub, ValidateClusterChange, opv1::OperatorValidateClusterChangeRequest,
             opv1::OperatorValidateClusterChangeResult,
             "/cnpgi.operator.v1.Operator/ValidateClusterChange");
  CNPGI_CALL(op_stub, MutateCluster, opv1::OperatorMutateClusterRequest,
             opv1::OperatorMutateClusterResult, "/cnpgi.operator.v1.Operator/MutateCluster");
  CNPGI_CALL(op_stub, SetStatusInCluster, opv1::SetStatusInClusterRequest,
             opv1::SetStatusInClusterResponse, "/cnpgi.operator.v1.Operator/SetStatusInCluster");
  CNPGI_CALL(op_stub, Deregister, opv1::DeregisterRequest, opv1::DeregisterResponse,
             "/cnpgi.operator.v1.Operator/Deregister");

  CNPGI_CALL(lifecycle_stub, GetCapabilities, lcv1::OperatorLifecycleCapabilitiesRequest,
             lcv1::OperatorLifecycleCapabilitiesResponse,
             "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/GetCapabilities");
  CNPGI_CALL(lifecycle_stub, LifecycleHook, lcv1::OperatorLifecycleRequest,
             lcv1::OperatorLifecycleResponse,
             "/cnpgi.operator_lifecycle.v1.OperatorLifecycle/LifecycleHook");

  CNPGI_CALL(wal_stub, GetCapabilities, walv1::WALCapabilitiesRequest,
             walv1::WALCapabilitiesResult, "/cnpgi.wal.v1.WAL/GetCapabilities");
  CNPGI_CALL(wal_stub, Archive, walv1::WALArchiveRequest, walv1::WALArchiveResult,
             "/cnpgi.wal.v1.WAL/Archive");
  CNPGI_CALL(wal_stub, Restore, walv1::WALRestoreRequest, walv1::WALRestoreResult,
             "/cnpgi.wal.v1.WAL/Restore");
  CNPGI_CALL(wal_stub, Status, walv1::WALStatusRequest, walv1::WALStatusResult,
             "/cnpgi.wal.v1.WAL/Status");
  CNPGI_CALL(wal_stub, SetFirstRequired, walv1::SetFirstRequiredRequest,
             walv1::SetFirstRequiredResult, "/cnpgi.wal.v1.WAL/SetFirstRequired");

  CNPGI_CALL(backup_stub, GetCapabilities, bkv1::BackupCapabilitiesRequest,
             bkv1::BackupCapabilitiesResult, "/cnpgi.backup.v1.Backup/GetCapabilities");
  CNPGI_CALL(backup_stub, Backup, bkv1::BackupRequest, bkv1::BackupResult,
             "/cnpgi.backup.v1.Backup/Backup");

  CNPGI_CALL(restore_job_stub, GetCapabilities, walv1::RestoreJobHooksCapabilitiesRequest,
             walv1::RestoreJobHooksCapabilitiesResult,
             "/cnpgi.wal.v1.RestoreJobHooks/GetCapabilities");
  CNPGI_CALL(restore_job_stub, Restore, walv1::RestoreRequest, walv1::RestoreResponse,
             "/cnpgi.wal.v1.RestoreJobHooks/Restore");

  CNPGI_CALL(reconciler_stub, GetCapabilities, rcv1::ReconcilerHooksCapabilitiesRequest,
             rcv1::ReconcilerHooksCapabilitiesResult,
             "/cnpgi.reconciler.v1.ReconcilerHooks/GetCapabilities");
  CNPGI_CALL(reconciler_stub, Pre, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult,
             "/cnpgi.reconciler.v1.ReconcilerHooks/Pre");
  CNPGI_CALL(reconciler_stub, Post, rcv1::ReconcilerHooksRequest, rcv1::ReconcilerHooksResult,
             "/cnpgi.reconciler.v1.ReconcilerHooks/Post");

  CNPGI_CALL(postgres_stub, GetCapabilities, idv1::PostgresCapabilitiesRequest,
             idv1::PostgresCapabilitiesResult, "/cnpgi.identity.v1.Postgres/GetCapabilities");
  CNPGI_CALL(postgres_stub, EnrichConfiguration, idv1::EnrichConfigurationRequest,
             idv1::EnrichConfigurationResult, "/cnpgi.identity.v1.Postgres/EnrichConfiguration");

  CNPGI_CALL(metrics_stub, GetCapabilities, mtv1::MetricsCapabilitiesRequest,
             mtv1::MetricsCapabilitiesResult, "/cnpgi.metrics.v1.Metrics/GetCapabilities");
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
