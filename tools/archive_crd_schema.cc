// Prints the Archive CRD's openAPIV3Schema `spec` node as JSON, from the schema the parser checks
// (config/archive_schema.cc). tests/manifests/crd-schema.mjs compares it with the CRD and, with
// --write, puts it there: tools/regenerate-crd.sh.
#include <iostream>

#include "config/archive_schema.h"

int main() {
  std::cout << cnpgi_pgbackrest::CrdSchema(cnpgi_pgbackrest::ArchiveSpecSchema()).dump(2) << "\n";
  return 0;
}
