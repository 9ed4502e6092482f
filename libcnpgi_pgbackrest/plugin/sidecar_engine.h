// The Engine of a sidecar (Archives, Secrets, pgbackrest.conf, pgbackrest) from resolved options:
// shared by the capabilities and an operator's shell, so both see the same configuration.
#pragma once

#include <memory>

#include "absl/status/statusor.h"

#include "cnpgi_pgbackrest/plugin/sidecar.h"
#include "pgbackrest/engine.h"

namespace cnpgi_pgbackrest {

absl::StatusOr<std::unique_ptr<Engine>> MakeSidecarEngine(const SidecarOptions& resolved);

}  // namespace cnpgi_pgbackrest
