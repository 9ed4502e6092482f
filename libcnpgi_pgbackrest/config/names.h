// Names that come from Clusters, Archives and Backups and end up in file paths, pgBackRest
// sections or Kubernetes URLs: each is checked here, once, before anything is built from it.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

// A Kubernetes object name (RFC 1123 subdomain: lowercase letters, digits, '-' and '.').
bool IsResourceName(absl::string_view name);

// A key of a Secret: letters, digits, '-', '_' and '.', but not '.' or '..' or a leading '..'
// (Kubernetes' own rule, which also keeps it a single path component).
bool IsSecretKey(absl::string_view key);

// A pgBackRest stanza: a directory name in the repository, the spool and the lock directory, and
// a section of pgbackrest.conf. Letters, digits, '-', '_' and '.', starting with a letter or digit,
// at most 100 characters. INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckStanzaName(absl::string_view stanza, absl::string_view field);

// INVALID_ARGUMENT naming `field` unless name is a Kubernetes object name.
absl::Status CheckResourceName(absl::string_view name, absl::string_view field, absl::string_view kind);

}  // namespace cnpgi_pgbackrest
