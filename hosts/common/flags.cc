#include "hosts/common/flags.h"

#include <csignal>
#include <cstring>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/str_join.h"

#include "cnpgi_pgbackrest/version.h"

namespace cnpgi_pgbackrest::hosts {

void SetUsage(const std::string& program, const std::string& usage) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  config.version_string = [program] { return program + " " + Version() + "\n"; };
  absl::SetFlagsUsageConfig(config);
}

int FindWord(int argc, char** argv, const std::string& word) {
  for (int i = 1; i < argc; ++i)
    if (word == argv[i]) return i;
  return argc;
}

std::vector<char*> NormalizeFlags(int argc, char** argv, std::vector<std::string>& storage,
                                  const std::vector<std::string>& from_env) {
  storage.clear();
  storage.reserve(argc + 1);
  // First, so that a flag on the command line still wins (absl applies them in order).
  if (argc > 0) storage.push_back(argv[0]);
  if (!from_env.empty()) storage.push_back("--tryfromenv=" + absl::StrJoin(from_env, ","));
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) == 0) {
      auto end = arg.find('=');
      for (std::size_t j = 2; j < std::min(end, arg.size()); ++j)
        if (arg[j] == '-') arg[j] = '_';
    }
    storage.push_back(std::move(arg));
  }
  std::vector<char*> out;
  for (auto& s : storage) out.push_back(s.data());
  return out;
}

}  // namespace cnpgi_pgbackrest::hosts
