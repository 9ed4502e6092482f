#include "cnpgi_pgbackrest/version.h"

namespace cnpgi_pgbackrest {

const char* Version() { return CNPGI_PGBACKREST_VERSION_STRING; }

}  // namespace cnpgi_pgbackrest
