// Marks what the shared libraries export: everything else is built with hidden visibility, so a
// host sees only the API in these headers (and cannot clash with the library's internals).
#pragma once

#define CNPGI_PGBACKREST_EXPORT __attribute__((visibility("default")))
