#include "cnpgi_pgbackrest/identity/identity.h"

#include "cnpgi_pgbackrest/version.h"

namespace cnpgi_pgbackrest {

PluginMetadata DefaultPluginMetadata(std::string name) {
  PluginMetadata m;
  m.name = std::move(name);
  m.version = kPluginVersion;
  m.display_name = "pgBackRest";
  m.description = "pgBackRest backups, WAL archiving and recovery for CloudNativePG clusters";
  m.project_url = "https://github.com/cnpgi-pgbackrest/cnpgi-pgbackrest";
  m.repository_url = "https://github.com/cnpgi-pgbackrest/cnpgi-pgbackrest";
  m.license = "Apache-2.0";
  m.license_url = "https://www.apache.org/licenses/LICENSE-2.0";
  m.maturity = "alpha";
  m.vendor = "cnpgi-pgbackrest";
  return m;
}

}  // namespace cnpgi_pgbackrest
