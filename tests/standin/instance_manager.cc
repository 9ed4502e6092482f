// Stand-in for CNPG's instance manager commands that talk to plugin sidecars over /plugins.
// It follows the behaviour of cloudnative-pg's wal-archive and wal-restore (reference
// cnpgi-protocol.md §2.4, §2.5, §3.3, §3.4): one fresh connection per invocation, the full
// handshake, the enabled-plugin list from the Cluster, plugins in name order.
//
//   cnpgi-instance-standin wal-archive --cluster-json=F [--plugins-dir=D] [--pgdata=P] %p
//   cnpgi-instance-standin wal-restore --cluster-json=F [--rewind] %f %p
//   cnpgi-instance-standin backup --cluster-json=F --backup-json=B    (prints the Backup status as JSON)
//   cnpgi-instance-standin restore --cluster-json=F                   (prints restore_config and envs as JSON)
//   cnpgi-instance-standin metrics --cluster-json=F [--format=json]   (one scrape, Prometheus text on stdout;
//                                                                      json: each plugin's definitions and samples)
//   cnpgi-instance-standin handshake --cluster-json=F                 (prints what each plugin advertised as JSON)
//
// Environment as in the Pod: POD_NAME, PGDATA. CNPGI_STANDIN_CLUSTER_JSON and
// CNPGI_STANDIN_PLUGINS_DIR stand in for the instance manager's local Cluster cache, so
// that a restore_command naming this program works inside PostgreSQL.
#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

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

using json = nlohmann::json;
namespace id = cnpgi::identity::v1;
namespace wal = cnpgi::wal::v1;

struct Options {
  std::string command;
  std::string cluster_json_path;
  std::string backup_json_path;
  std::string plugins_dir = "/plugins";
  std::string pgdata;
  bool rewind = false;
  bool legacy = false;          // behave like CNPG <= 1.30: leave cnpg-i 0.6 fields unset
  std::string format = "text";  // metrics: "text" (Prometheus exposition) or "json"
  std::vector<std::string> args;
};

[[noreturn]] void Fail(const std::string& msg, int code = 1) {
  std::cerr << "standin: " << msg << "\n";
  std::exit(code);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot read " + path, 2);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Enabled(const json& entry) {
  return !entry.contains("enabled") || !entry["enabled"].is_boolean() || entry["enabled"].get<bool>();
}

// A connected plugin after the handshake of §2.5.
struct Plugin {
  std::string name;
  std::shared_ptr<grpc::Channel> channel;
  std::set<int> services;
  std::set<int> wal_rpcs;
  std::set<int> backup_rpcs;
  std::set<int> restore_kinds;
};

grpc::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& fn) {
  grpc::ClientContext ctx;  // unix sockets: no deadline, as in CNPG
  return fn(&ctx);
}

// One service's GetCapabilities; false with the reason in *error.
template <typename Service, typename Result>
bool GetCapabilities(const std::shared_ptr<grpc::Channel>& channel, const char* service, Result* result,
                     std::string* error) {
  auto stub = Service::NewStub(channel);
  grpc::Status s = Call([&](auto* c) { return stub->GetCapabilities(c, {}, result); });
  if (!s.ok()) *error = std::string(service) + "/GetCapabilities: " + s.error_message();
  return s.ok();
}

// Dials and runs GetPluginMetadata, GetPluginCapabilities, per-service GetCapabilities in CNPG's order, Probe.
std::optional<Plugin> Load(const std::string& socket, const std::string& name, std::string* error) {
  Plugin p;
  p.channel = grpc::CreateChannel("unix://" + socket, grpc::InsecureChannelCredentials());
  auto identity = id::Identity::NewStub(p.channel);
  id::GetPluginMetadataResponse meta;
  grpc::Status s = Call([&](auto* c) { return identity->GetPluginMetadata(c, id::GetPluginMetadataRequest(), &meta); });
  if (!s.ok()) return *error = "GetPluginMetadata: " + s.error_message(), std::nullopt;
  p.name = meta.name();
  if (p.name != name) return *error = "plugin on socket " + name + " calls itself " + p.name, std::nullopt;
  id::GetPluginCapabilitiesResponse caps;
  s = Call([&](auto* c) { return identity->GetPluginCapabilities(c, id::GetPluginCapabilitiesRequest(), &caps); });
  if (!s.ok()) return *error = "GetPluginCapabilities: " + s.error_message(), std::nullopt;
  for (const auto& c : caps.capabilities()) p.services.insert(c.service().type());
  using T = id::PluginCapability::Service;
  auto need = [&](int t) { return p.services.count(t) > 0; };
  // In CNPG's fixed order; an error in any of them fails the whole plugin load.
  if (need(T::TYPE_OPERATOR_SERVICE)) {
    cnpgi::operator_::v1::OperatorCapabilitiesResult r;
    if (!GetCapabilities<cnpgi::operator_::v1::Operator>(p.channel, "Operator", &r, error)) return std::nullopt;
  }
  if (need(T::TYPE_LIFECYCLE_SERVICE)) {
    cnpgi::operator_lifecycle::v1::OperatorLifecycleCapabilitiesResponse r;
    if (!GetCapabilities<cnpgi::operator_lifecycle::v1::OperatorLifecycle>(p.channel, "OperatorLifecycle", &r, error))
      return std::nullopt;
  }
  if (need(T::TYPE_WAL_SERVICE)) {
    wal::WALCapabilitiesResult r;
    if (!GetCapabilities<wal::WAL>(p.channel, "WAL", &r, error)) return std::nullopt;
    for (const auto& c : r.capabilities()) p.wal_rpcs.insert(c.rpc().type());
  }
  if (need(T::TYPE_BACKUP_SERVICE)) {
    cnpgi::backup::v1::BackupCapabilitiesResult r;
    if (!GetCapabilities<cnpgi::backup::v1::Backup>(p.channel, "Backup", &r, error)) return std::nullopt;
    for (const auto& c : r.capabilities()) p.backup_rpcs.insert(c.rpc().type());
  }
  if (need(T::TYPE_RECONCILER_HOOKS)) {
    cnpgi::reconciler::v1::ReconcilerHooksCapabilitiesResult r;
    if (!GetCapabilities<cnpgi::reconciler::v1::ReconcilerHooks>(p.channel, "ReconcilerHooks", &r, error))
      return std::nullopt;
  }
  if (need(T::TYPE_RESTORE_JOB)) {
    wal::RestoreJobHooksCapabilitiesResult r;
    if (!GetCapabilities<wal::RestoreJobHooks>(p.channel, "RestoreJobHooks", &r, error)) return std::nullopt;
    for (const auto& c : r.capabilities()) p.restore_kinds.insert(c.kind());
  }
  if (need(T::TYPE_POSTGRES)) {
    id::PostgresCapabilitiesResult r;
    if (!GetCapabilities<id::Postgres>(p.channel, "Postgres", &r, error)) return std::nullopt;
  }
  if (need(T::TYPE_METRICS)) {
    cnpgi::metrics::v1::MetricsCapabilitiesResult r;
    if (!GetCapabilities<cnpgi::metrics::v1::Metrics>(p.channel, "Metrics", &r, error)) return std::nullopt;
  }
  // Taking the connection from the pool probes it; the answer's `ready` is ignored, as in CNPG.
  id::ProbeResponse probe;
  s = Call([&](auto* c) { return identity->Probe(c, id::ProbeRequest(), &probe); });
  if (!s.ok()) return *error = "Probe: " + s.error_message(), std::nullopt;
  return p;
}

// Scans the plugins directory and loads the enabled plugins found there, sorted by name.
std::vector<Plugin> LoadPlugins(const Options& opt, const std::set<std::string>& enabled) {
  std::vector<std::string> names;
  if (DIR* d = opendir(opt.plugins_dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != ".." && enabled.count(n)) names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<Plugin> plugins;
  for (const auto& n : names) {
    std::string error;
    // CNPG retries acquiring a connection: 5 steps, 10 ms growing by 5x.
    std::optional<Plugin> p;
    int delay_ms = 10;
    for (int attempt = 0; attempt < 5 && !p; ++attempt) {
      p = Load(opt.plugins_dir + "/" + n, n, &error);
      if (!p) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms)), delay_ms *= 5;
    }
    if (!p) Fail("cannot load plugin " + n + ": " + error);
    plugins.push_back(std::move(*p));
  }
  for (const auto& n : enabled)
    if (std::find(names.begin(), names.end(), n) == names.end())
      std::cerr << "standin: enabled plugin " << n << " has no socket in " << opt.plugins_dir << "\n";
  return plugins;
}

std::string Env(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

int WalArchive(const Options& opt, const std::string& cluster_text, const json& cluster) {
  if (opt.args.size() != 1) Fail("wal-archive needs exactly one argument (%p)", 2);
  const json& status = cluster.value("status", json::object());
  std::string pod = Env("POD_NAME");
  std::string current = status.value("currentPrimary", "");
  std::string target = status.value("targetPrimary", "");
  bool replica_cluster = cluster["spec"].contains("replica") && cluster["spec"]["replica"].value("enabled", false);
  if (replica_cluster && pod != current && pod != target) return 0;  // only the designated primary archives
  if (current != pod) Fail("switchover in progress: current primary is '" + current + "', this is '" + pod + "'");

  std::set<std::string> enabled;
  for (const auto& p : cluster["spec"].value("plugins", json::array()))
    if (Enabled(p)) enabled.insert(p.value("name", ""));
  std::string path = opt.args[0];
  if (path.empty() || path[0] != '/') path = opt.pgdata + "/" + path;
  bool marker = access((opt.pgdata + "/.check-empty-wal-archive").c_str(), F_OK) == 0;
  auto annotations = cluster["metadata"].value("annotations", json::object());
  bool check_empty = annotations.value("cnpg.io/skipEmptyWalArchiveCheck", "") != "enabled" && marker;

  int archived = 0;
  for (const auto& p : LoadPlugins(opt, enabled)) {
    if (!p.wal_rpcs.count(wal::WALCapability::RPC::TYPE_ARCHIVE_WAL)) continue;
    auto stub = wal::WAL::NewStub(p.channel);
    wal::WALArchiveRequest req;
    req.set_cluster_definition(cluster_text);
    req.set_source_file_name(path);
    if (!opt.legacy) req.set_check_empty_wal_archive(check_empty);
    wal::WALArchiveResult res;
    grpc::Status s = Call([&](auto* c) { return stub->Archive(c, req, &res); });
    if (!s.ok())
      Fail("wal-archive via " + p.name + " failed: code " + std::to_string(s.error_code()) + ": " + s.error_message());
    ++archived;
  }
  if (archived == 0) Fail("no plugin archived " + path + " (no enabled plugin advertises TYPE_ARCHIVE_WAL)");
  return 0;
}

int WalRestore(const Options& opt, const std::string& cluster_text, const json& cluster) {
  if (opt.args.size() != 2) Fail("wal-restore needs exactly two arguments (%f %p)", 2);
  const std::string& name = opt.args[0];
  std::string dest = opt.args[1];
  if (dest.empty() || dest[0] != '/') dest = opt.pgdata + "/" + dest;
  const json& status = cluster.value("status", json::object());
  std::string pod = Env("POD_NAME");
  // Timeline guard: replicas never get future-timeline history files from plugins.
  long tli = status.value("timelineID", 0L);
  bool primary = pod == status.value("currentPrimary", "") || pod == status.value("targetPrimary", "");
  if (!primary && tli > 0 && name.size() == 16 && name.substr(8) == ".history" &&
      std::stol(name.substr(0, 8), nullptr, 16) > tli) {
    std::cerr << "standin: future timeline history " << name << " refused\n";
    return 1;
  }
  std::set<std::string> enabled;
  for (const auto& p : cluster["spec"].value("plugins", json::array()))
    if (Enabled(p)) enabled.insert(p.value("name", ""));
  for (const auto& e : cluster["spec"].value("externalClusters", json::array()))
    if (e.contains("plugin") && Enabled(e["plugin"])) enabled.insert(e["plugin"].value("name", ""));
  std::vector<std::string> errors;
  for (const auto& p : LoadPlugins(opt, enabled)) {
    if (!p.wal_rpcs.count(wal::WALCapability::RPC::TYPE_RESTORE_WAL)) continue;
    auto stub = wal::WAL::NewStub(p.channel);
    wal::WALRestoreRequest req;
    req.set_cluster_definition(cluster_text);
    req.set_source_wal_name(name);
    req.set_destination_file_name(dest);
    if (!opt.legacy)
      req.set_mode(opt.rewind ? wal::WALRestoreRequest::MODE_REWIND : wal::WALRestoreRequest::MODE_RECOVERY);
    wal::WALRestoreResult res;
    grpc::Status s = Call([&](auto* c) { return stub->Restore(c, req, &res); });
    if (s.ok()) return 0;
    errors.push_back(p.name + ": code " + std::to_string(s.error_code()) + ": " + s.error_message());
  }
  for (const auto& e : errors) std::cerr << "standin: wal-restore " << name << " via " << e << "\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 1;
}

std::string Rfc3339(int64_t unix_seconds) {
  char buf[32];
  time_t t = static_cast<time_t>(unix_seconds);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// The plugin backup of CNPG's instance manager (pkg/management/postgres/webserver/plugin_backup.go).
int Backup(const Options& opt, json cluster) {
  if (opt.backup_json_path.empty()) Fail("backup needs --backup-json", 2);
  json backup = json::parse(ReadFile(opt.backup_json_path), nullptr, false);
  if (backup.is_discarded()) Fail("backup definition is not JSON", 2);
  const json& pc = backup["spec"].value("pluginConfiguration", json::object());
  std::string name = pc.value("name", "");
  auto plugins = LoadPlugins(opt, {name});
  if (plugins.empty()) Fail("requested plugin is not available");
  const Plugin& p = plugins[0];
  if (!p.services.count(id::PluginCapability::Service::TYPE_BACKUP_SERVICE))
    Fail("plugin does not support Backup service");
  if (!p.backup_rpcs.count(cnpgi::backup::v1::BackupCapability::RPC::TYPE_BACKUP))
    Fail("plugin does not support the Backup RPC call");
  backup["apiVersion"] = "postgresql.cnpg.io/v1";  // EnsureGVKIsPresent
  backup["kind"] = "Backup";
  backup["status"]["phase"] = "started";
  cnpgi::backup::v1::BackupRequest req;
  req.set_cluster_definition(cluster.dump());
  req.set_backup_definition(backup.dump());
  const json parameters = pc.value("parameters", json::object());
  for (auto& [k, v] : parameters.items())
    (*req.mutable_parameters())[k] = v.is_string() ? v.get<std::string>() : v.dump();
  auto stub = cnpgi::backup::v1::Backup::NewStub(p.channel);
  cnpgi::backup::v1::BackupResult res;
  grpc::Status s = Call([&](auto* c) { return stub->Backup(c, req, &res); });
  if (!s.ok()) Fail("backup failed: code " + std::to_string(s.error_code()) + ": " + s.error_message());
  json status = {{"phase", "completed"},
                 {"backupId", res.backup_id()},
                 {"backupName", res.backup_name()},
                 {"beginWal", res.begin_wal()},
                 {"endWal", res.end_wal()},
                 {"beginLSN", res.begin_lsn()},
                 {"endLSN", res.end_lsn()},
                 {"online", res.online()},
                 {"instanceIDPlugin", res.instance_id()},
                 {"startedAt", Rfc3339(res.started_at())},
                 {"stoppedAt", Rfc3339(res.stopped_at())},
                 {"startedAtUnix", res.started_at()},
                 {"stoppedAtUnix", res.stopped_at()},
                 {"pluginMetadata", json::object()}};
  for (const auto& [k, v] : res.metadata()) status["pluginMetadata"][k] = v;
  std::cout << status.dump() << "\n";
  return 0;
}

// The recovery bootstrap of CNPG's instance manager (pkg/management/postgres/restore.go, restoreViaPlugin).
int Restore(const Options& opt, json cluster) {
  std::string source =
      cluster["spec"].value("bootstrap", json::object()).value("recovery", json::object()).value("source", "");
  std::string name;
  for (const auto& e : cluster["spec"].value("externalClusters", json::array()))
    if (e.value("name", "") == source && e.contains("plugin")) name = e["plugin"].value("name", "");
  if (name.empty()) Fail("bootstrap.recovery.source does not name an external cluster with a plugin", 2);
  cluster["apiVersion"] = "postgresql.cnpg.io/v1";
  cluster["kind"] = "Cluster";
  for (const auto& p : LoadPlugins(opt, {name})) {
    if (!p.restore_kinds.count(wal::RestoreJobHooksCapability::KIND_RESTORE)) continue;
    wal::RestoreRequest req;
    req.set_cluster_definition(cluster.dump());
    auto annotations = cluster["metadata"].value("annotations", json::object());
    if (!opt.legacy)
      req.set_check_empty_wal_archive(annotations.value("cnpg.io/skipEmptyWalArchiveCheck", "") != "enabled");
    auto stub = wal::RestoreJobHooks::NewStub(p.channel);
    wal::RestoreResponse res;
    grpc::Status s = Call([&](auto* c) { return stub->Restore(c, req, &res); });
    if (!s.ok()) Fail("restore failed: code " + std::to_string(s.error_code()) + ": " + s.error_message());
    json out = {{"restore_config", res.restore_config()}, {"envs", json::array()}};
    for (const auto& e : res.envs()) out["envs"].push_back(e);
    std::cout << out.dump() << "\n";
    return 0;
  }
  Fail("no plugin supports the restore job hooks capability");
}

// The handshake only: for each enabled plugin, the services and RPCs the instance manager learned.
int Handshake(const Options& opt, const json& cluster) {
  std::set<std::string> enabled;
  for (const auto& e : cluster["spec"].value("plugins", json::array()))
    if (Enabled(e)) enabled.insert(e.value("name", ""));
  json out = json::object();
  for (const auto& p : LoadPlugins(opt, enabled))
    out[p.name] = {
        {"services", p.services}, {"wal", p.wal_rpcs}, {"backup", p.backup_rpcs}, {"restore_job", p.restore_kinds}};
  std::cout << out.dump() << "\n";
  return 0;
}

// The Prometheus type name of a definition's value type (0 when unset: the exporter refuses it).
const char* TypeName(int type) {
  switch (type) {
    case cnpgi::metrics::v1::MetricType::TYPE_COUNTER:
      return "counter";
    case cnpgi::metrics::v1::MetricType::TYPE_GAUGE:
      return "gauge";
    case cnpgi::metrics::v1::MetricType::TYPE_UNTYPED:
      return "untyped";
    default:
      return "";
  }
}

// One scrape of the instance exporter (pkg/management/postgres/metrics/collector.go): Define and
// Collect for each plugin with the Metrics service; a sample without a definition, a missing
// value_type or a wrong number of label values fails that plugin's collection. With --format=json
// the answer is printed as the exporter registers it, {plugin: {definitions: [{name, help, type,
// labels, const_labels}], samples: [{name, labels: {name: value}, value}]}}, for checks of what
// dashboards and alerts may use (tests/manifests/monitoring.sh).
int Metrics(const Options& opt, const json& cluster) {
  std::set<std::string> enabled;
  for (const auto& e : cluster["spec"].value("plugins", json::array()))
    if (Enabled(e)) enabled.insert(e.value("name", ""));
  int failures = 0;
  json answer = json::object();
  for (const auto& p : LoadPlugins(opt, enabled)) {
    if (!p.services.count(id::PluginCapability::Service::TYPE_METRICS)) continue;
    auto stub = cnpgi::metrics::v1::Metrics::NewStub(p.channel);
    cnpgi::metrics::v1::DefineMetricsRequest dreq;
    dreq.set_cluster_definition(cluster.dump());
    cnpgi::metrics::v1::DefineMetricsResult defined;
    grpc::Status s = Call([&](auto* c) { return stub->Define(c, dreq, &defined); });
    cnpgi::metrics::v1::CollectMetricsRequest creq;
    creq.set_cluster_definition(cluster.dump());
    cnpgi::metrics::v1::CollectMetricsResult collected;
    if (s.ok()) s = Call([&](auto* c) { return stub->Collect(c, creq, &collected); });
    if (!s.ok()) {
      std::cerr << "standin: metrics of " << p.name << ": " << s.error_message() << "\n";
      ++failures;
      continue;
    }
    std::map<std::string, const cnpgi::metrics::v1::Metric*> by_name;
    json definitions = json::array();
    for (const auto& m : defined.metrics()) {
      by_name[m.fq_name()] = &m;
      std::map<std::string, std::string> const_labels(m.const_labels().begin(), m.const_labels().end());
      definitions.push_back(
          {{"name", m.fq_name()},
           {"help", m.help()},
           {"type", TypeName(m.has_value_type() ? m.value_type().type() : 0)},
           {"labels", std::vector<std::string>(m.variable_labels().begin(), m.variable_labels().end())},
           {"const_labels", const_labels}});
    }
    std::ostringstream text;
    json samples = json::array();
    std::string error;
    for (const auto& c : collected.metrics()) {
      auto it = by_name.find(c.fq_name());
      if (it == by_name.end()) {
        error = "no definition for " + c.fq_name();
        break;
      }
      const auto& m = *it->second;
      if (!m.has_value_type() || m.value_type().type() == 0) {
        error = c.fq_name() + " has no value type";
        break;
      }
      if (m.variable_labels_size() != c.variable_labels_size()) {
        error = c.fq_name() + ": wrong label count";
        break;
      }
      json labels = json::object();
      text << c.fq_name();
      for (int i = 0; i < c.variable_labels_size(); ++i) {
        labels[m.variable_labels(i)] = c.variable_labels(i);
        text << (i ? "," : "{") << m.variable_labels(i) << "=\"" << c.variable_labels(i) << "\""
             << (i + 1 == c.variable_labels_size() ? "}" : "");
      }
      text << " " << std::setprecision(17) << c.value() << "\n";
      samples.push_back({{"name", c.fq_name()}, {"labels", labels}, {"value", c.value()}});
    }
    if (!error.empty()) {
      std::cerr << "standin: metrics of " << p.name << ": " << error << "\n";
      ++failures;
      continue;
    }
    if (opt.format == "json")
      answer[p.name] = {{"definitions", definitions}, {"samples", samples}};
    else
      std::cout << text.str();
  }
  if (opt.format == "json") std::cout << answer.dump(2) << "\n";
  return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  opt.pgdata = Env("PGDATA");
  opt.cluster_json_path = Env("CNPGI_STANDIN_CLUSTER_JSON");
  if (!Env("CNPGI_STANDIN_PLUGINS_DIR").empty()) opt.plugins_dir = Env("CNPGI_STANDIN_PLUGINS_DIR");
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&](const std::string& flag) -> std::optional<std::string> {
      if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (auto v = val("--cluster-json"))
      opt.cluster_json_path = *v;
    else if (auto v = val("--plugins-dir"))
      opt.plugins_dir = *v;
    else if (auto v = val("--backup-json"))
      opt.backup_json_path = *v;
    else if (auto v = val("--pgdata"))
      opt.pgdata = *v;
    else if (auto v = val("--format"))
      opt.format = *v;
    else if (a == "--rewind")
      opt.rewind = true;
    else if (a == "--legacy")
      opt.legacy = true;
    else if (a == "--log-destination")
      ++i;  // accepted for command-line compatibility with CNPG
    else if (opt.command.empty())
      opt.command = a;
    else
      opt.args.push_back(a);
  }
  if (opt.cluster_json_path.empty()) Fail("--cluster-json is required", 2);
  if (opt.format != "text" && opt.format != "json") Fail("--format is text or json, not '" + opt.format + "'", 2);
  if (opt.pgdata.empty() && opt.command.rfind("wal-", 0) == 0) Fail("PGDATA is not set (use --pgdata)", 2);
  std::string text = ReadFile(opt.cluster_json_path);
  json cluster = json::parse(text, nullptr, false);
  if (cluster.is_discarded() || !cluster.is_object()) Fail("cluster definition is not JSON", 2);
  if (!cluster.contains("spec")) cluster["spec"] = json::object();
  if (!cluster.contains("metadata")) cluster["metadata"] = json::object();
  if (opt.command == "wal-archive") return WalArchive(opt, text, cluster);
  if (opt.command == "wal-restore") return WalRestore(opt, text, cluster);
  if (opt.command == "backup") return Backup(opt, cluster);
  if (opt.command == "restore") return Restore(opt, cluster);
  if (opt.command == "metrics") return Metrics(opt, cluster);
  if (opt.command == "handshake") return Handshake(opt, cluster);
  Fail("unknown command '" + opt.command + "' (wal-archive, wal-restore, backup, restore, metrics)", 2);
}
