// Command-line conventions shared by the hosts.
#pragma once

#include <string>
#include <vector>

namespace cnpgi_pgbackrest::hosts {

// Usage text, and `--version` answering "<program> <library version>".
void SetUsage(const std::string& program, const std::string& usage);

// The index of the first argument equal to word, or argc: what follows it is another program's.
int FindWord(int argc, char** argv, const std::string& word);

// Accepts --kebab-case flags (as CNPG plugins spell them) for absl's snake_case flags. Each flag
// in from_env is also read from the variable FLAGS_<flag> when set (a Pod's env is what an
// Archive's instanceSidecarConfiguration can change; the container's args are the operator's).
std::vector<char*> NormalizeFlags(int argc, char** argv, std::vector<std::string>& storage,
                                  const std::vector<std::string>& from_env = {});

}  // namespace cnpgi_pgbackrest::hosts
