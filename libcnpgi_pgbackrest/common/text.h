// Outside values quoted in messages.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace cnpgi_pgbackrest {

// 'value', cut to a readable length: a message that echoed a 1 MB name whole would exceed what
// gRPC clients accept as status metadata (8 KiB by default) and hide the reason.
std::string Quoted(absl::string_view value, std::size_t max_chars = 128);

// A whole message cut to what a gRPC status can carry; the last resort behind Quoted().
std::string CappedMessage(absl::string_view message);

}  // namespace cnpgi_pgbackrest
