// Integration-test harness: a Cluster recovered from an Archive through the plugin's restore hooks.
#include <doctest/doctest.h>

#include "harness.h"

namespace cnpgi_it {

Recovery::Recovery(const ArchivingPrimary& src, const json& target, const json& spec_extra,
                   std::vector<std::string> sidecar_env, std::vector<std::string> flags) {
  // The Archive the source cluster archives to (ClusterJson's plugin parameter).
  const std::string archive = src.cluster["spec"]["plugins"][0]["parameters"]["pgbackrestObjectName"];
  cluster = ClusterJson("cluster-restore", archive, "");
  cluster["spec"].erase("plugins");  // recovery only: it does not archive
  cluster["spec"]["bootstrap"] = {{"recovery", {{"source", "origin"}}}};
  if (!target.is_null()) cluster["spec"]["bootstrap"]["recovery"]["recoveryTarget"] = target;
  cluster["spec"]["externalClusters"] =
      json::array({{{"name", "origin"},
                    {"plugin",
                     {{"name", "pgbackrest.cnpg.opera.com"},
                      {"parameters", {{"pgbackrestObjectName", archive}, {"stanza", "cluster-example"}}}}}}});
  cluster["status"] = {{"phase", "Setting up primary"}, {"currentPrimary", ""}, {"targetPrimary", "cluster-restore-1"}};
  for (auto& [k, v] : spec_extra.items()) cluster["spec"][k] = v;
  if (sidecar_env.empty()) sidecar_env = src.sidecar_env;
  flags.push_back("--instance-manager=" + Programs::Get().standin);
  dir.WriteFile("cluster.json", cluster.dump());
  sidecar = std::make_unique<Sidecar>(Sidecar::Options{.plugins_dir = plugins,
                                                       .work_dir = dir.MakeDir("work"),
                                                       .pgdata = pg.pgdata(),
                                                       .pg_socket_dir = pg.socket_dir(),
                                                       .pg_port = pg.port(),
                                                       .archives_file = src.archives_file,
                                                       .pod_name = "cluster-restore-1",
                                                       .env = sidecar_env,
                                                       .extra_flags = flags});
  std::string out;
  REQUIRE_MESSAGE(sidecar->Start(&out), out);
}

ProcessResult Recovery::RestoreHook() {
  return RunAsPostgres(
      {Programs::Get().standin, "restore", "--cluster-json=" + cluster_file, "--plugins-dir=" + plugins},
      {"POD_NAME=cluster-restore-1"});
}

void Recovery::Recover() {
  auto hook = RestoreHook();
  REQUIRE_MESSAGE(hook.exit_code == 0, hook.err << sidecar->Log());
  json response = json::parse(hook.out);
  std::string config = response["restore_config"];
  CHECK(config.find("recovery_target_action = 'promote'") != std::string::npos);
  CHECK(config.find(Programs::Get().standin + " wal-restore") != std::string::npos);
  CHECK(ReadFile(pg.pgdata() + "/postgresql.auto.conf").find("restore_command") == std::string::npos);
  std::vector<std::string> lines = {"port = " + std::to_string(pg.port()),
                                    "unix_socket_directories = '" + pg.socket_dir() + "'",
                                    "listen_addresses = '127.0.0.1'", "archive_mode = off", config};
  const json& t = cluster["spec"]["bootstrap"]["recovery"].value("recoveryTarget", json::object());
  if (t.contains("targetTime")) lines.push_back("recovery_target_time = '" + t["targetTime"].get<std::string>() + "'");
  if (t.contains("targetLSN")) lines.push_back("recovery_target_lsn = '" + t["targetLSN"].get<std::string>() + "'");
  if (t.contains("targetXID")) lines.push_back("recovery_target_xid = '" + t["targetXID"].get<std::string>() + "'");
  if (t.contains("targetName")) lines.push_back("recovery_target_name = '" + t["targetName"].get<std::string>() + "'");
  if (t.value("targetImmediate", false)) lines.push_back("recovery_target = 'immediate'");
  pg.Configure(lines);
  dir.WriteFile("pg-data/recovery.signal", "");
  pg.Start({"PGDATA=" + pg.pgdata(), "POD_NAME=cluster-restore-1", "CNPGI_STANDIN_CLUSTER_JSON=" + cluster_file,
            "CNPGI_STANDIN_PLUGINS_DIR=" + plugins});
  REQUIRE_MESSAGE(pg.WaitPromoted(std::chrono::seconds(120)), pg.LogText() << sidecar->Log());
}

std::string Recovery::Batches() {
  return pg.Sql("SELECT string_agg(DISTINCT batch::text, ',' ORDER BY batch::text) FROM events");
}

}  // namespace cnpgi_it
