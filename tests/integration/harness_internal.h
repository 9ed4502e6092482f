// What the harness's files share and the tests do not see.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

#include "harness.h"

namespace cnpgi_it::internal {

using cnpgi_pgbackrest::InheritedEnvironment;
using cnpgi_pgbackrest::ProcessSpec;
using cnpgi_pgbackrest::RunProcess;

inline const std::string kPgBin = "/usr/lib/postgresql/15/bin";

// $name, or fallback when unset.
std::string Env(const char* name, const char* fallback = "");

struct PostgresUser {
  uid_t uid;
  gid_t gid;
};
// The postgres user (fails the test when there is none).
PostgresUser PgUser();
// Gives path to postgres when running as root.
void ChownToPostgres(const std::string& path);
// Runs argv with this process's environment; fails the test when it cannot start.
ProcessResult Run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::minutes(5));

}  // namespace cnpgi_it::internal
