// Parameters, one "key=value" a line: as a Backup's pluginConfiguration.parameters (BackupFlags)
// and as the Cluster's plugin parameters (ParseCluster). Never a crash; accepted Backup
// parameters become exactly one known pgBackRest flag each; plugin parameters reach the view as given.
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "backup/backup_options.h"
#include "config/cluster.h"
#include "fuzz_check.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

void CheckBackupFlags(const std::map<std::string, std::string>& parameters) {
  auto flags = BackupFlags(parameters);
  if (!flags.ok()) {
    FUZZ_CHECK(!flags.status().message().empty());
    return;
  }
  FUZZ_CHECK(flags->size() == parameters.size());
  auto key = parameters.begin();
  for (const std::string& flag : *flags) {
    const std::string& name = (key++)->first;
    bool known = false;
    for (const auto& spec : BackupOptionSpecs()) known |= name == spec.name;
    FUZZ_CHECK(known);
    // --name, --no-name or --name=value, with nothing pgBackRest would read as another option.
    bool plain = flag == "--" + name || flag == "--no-" + name;
    bool valued = flag.rfind("--" + name + "=", 0) == 0;
    FUZZ_CHECK(plain || valued);
    FUZZ_CHECK(flag.find_first_of(" \n\r\t\0", 2, 5) == std::string::npos);
  }
}

void CheckPluginParameters(const std::map<std::string, std::string>& parameters) {
  json cluster = {
      {"metadata", {{"name", "cluster-example"}}},
      {"spec", {{"plugins", json::array({{{"name", std::string(kDefaultPluginName)}, {"parameters", parameters}}})}}}};
  std::string text;
  try {
    text = cluster.dump();
  } catch (const json::type_error&) {
    return;  // not UTF-8: no Cluster JSON can carry it
  }
  auto view = ParseCluster(text);
  FUZZ_CHECK(view.ok());
  if (!view->archive) {
    FUZZ_CHECK(!view->archive_problem.ok());
    return;
  }
  FUZZ_CHECK(view->archive->parameters == parameters);
  FUZZ_CHECK(view->archive->archive_name == parameters.at("pgbackrestObjectName"));
  auto stanza = parameters.find("stanza");
  FUZZ_CHECK(view->archive->stanza == (stanza == parameters.end() ? "cluster-example" : stanza->second));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  absl::string_view text = FuzzText(data, size);
  std::map<std::string, std::string> parameters;
  while (!text.empty()) {
    auto nl = text.find('\n');
    absl::string_view line = text.substr(0, nl);
    text = nl == absl::string_view::npos ? absl::string_view() : text.substr(nl + 1);
    auto eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    parameters[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  CheckBackupFlags(parameters);
  CheckPluginParameters(parameters);
  return 0;
}
