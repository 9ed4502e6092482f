// Status propagation in one line. (Debian's abseil 20220623 predates absl/status/status_macros.h.)
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CNPGI_STATUS_CONCAT_INNER(a, b) a##b
#define CNPGI_STATUS_CONCAT(a, b) CNPGI_STATUS_CONCAT_INNER(a, b)

// Returns the status of expr (an absl::Status) from the enclosing function unless it is OK.
#define RETURN_IF_ERROR(expr)                                                             \
  do {                                                                                    \
    if (::absl::Status cnpgi_status_ = (expr); !cnpgi_status_.ok()) return cnpgi_status_; \
  } while (0)

// Evaluates expr (an absl::StatusOr<T>); returns its status unless it holds a value, which is
// then moved into lhs (a declaration such as `auto x` or an existing variable).
#define ASSIGN_OR_RETURN(lhs, expr) \
  CNPGI_ASSIGN_OR_RETURN_IMPL(CNPGI_STATUS_CONCAT(cnpgi_statusor_, __LINE__), lhs, expr)
#define CNPGI_ASSIGN_OR_RETURN_IMPL(statusor, lhs, expr) \
  auto statusor = (expr);                                \
  if (!statusor.ok()) return statusor.status();          \
  lhs = std::move(*statusor)
