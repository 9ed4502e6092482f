// For unit tests: an Engine over a posix Archive "local" whose pgbackrest is a shell script.
#pragma once

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"

#include "pgbackrest/engine.h"

namespace cnpgi_pgbackrest::testing {

// A scratch directory with pgdata/pg_wal/archive_status, work/ and the script at pgbackrest;
// removed with the object.
struct ScriptedEngine {
  explicit ScriptedEngine(const std::string& script) {
    char tmpl[] = "/tmp/cnpgi-scripted-XXXXXX";
    dir = mkdtemp(tmpl);
    std::filesystem::create_directories(dir + "/pgdata/pg_wal/archive_status");
    SetScript(script);
    auto archive = ParseArchive(nlohmann::json::parse(absl::StrCat(
        R"({"metadata":{"name":"local","namespace":"default"},"spec":{"configuration":{"repositories":[{"type":"posix","destinationPath":")",
        dir, R"(/repo"}]}}})")));
    REQUIRE(archive.ok());
    EngineOptions options;
    options.work_dir = dir + "/work";
    options.instance.pgdata = dir + "/pgdata";
    options.pgbackrest_binary = dir + "/pgbackrest";
    engine = std::make_unique<Engine>(
        options, std::make_unique<StaticArchiveCatalog>(std::map<std::string, Archive>{{"local", *archive}}),
        std::make_unique<EnvSecretResolver>());
  }
  ~ScriptedEngine() { std::filesystem::remove_all(dir); }

  // Replaces the body of the pgbackrest script (after #!/bin/sh).
  void SetScript(const std::string& body) {
    std::ofstream(dir + "/pgbackrest") << "#!/bin/sh\n" << body;
    chmod((dir + "/pgbackrest").c_str(), 0700);
  }

  std::string dir;
  std::unique_ptr<Engine> engine;
};

// A Cluster using the Archive "local" through the plugin, as CNPG sends it.
inline constexpr const char* kScriptedCluster =
    R"({"metadata":{"name":"cluster-example","namespace":"default"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com",)"
    R"("parameters":{"pgbackrestObjectName":"local"}}]},"status":{"currentPrimary":"cluster-example-1"}})";

}  // namespace cnpgi_pgbackrest::testing
