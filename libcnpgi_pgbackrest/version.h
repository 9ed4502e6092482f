// The plugin version reported to CNPG (GetPluginMetadata.version).
#pragma once

#include "version_config.h"

namespace cnpgi_pgbackrest {
inline constexpr const char* kPluginVersion = PLUGIN_VERSION;
}  // namespace cnpgi_pgbackrest
