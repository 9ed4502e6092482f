// Command-line conventions shared by the hosts.
#pragma once

#include <string>
#include <vector>

namespace cnpgi_pgbackrest::hosts {

// Accepts --kebab-case flags (as CNPG plugins spell them) for absl's snake_case flags.
std::vector<char*> NormalizeFlags(int argc, char** argv, std::vector<std::string>& storage);

// Blocks SIGTERM/SIGINT in every thread started later and returns when one arrives.
void BlockTerminationSignals();
int WaitForTerminationSignal();

}  // namespace cnpgi_pgbackrest::hosts
