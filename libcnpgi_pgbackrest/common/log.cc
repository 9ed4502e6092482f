#include "common/log.h"

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cnpgi_pgbackrest {

namespace {

template <typename Fields>
void Write(absl::string_view level, absl::string_view msg, const Fields& fields) {
  nlohmann::json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = std::string(level);
  line["msg"] = std::string(msg);
  for (const auto& [k, v] : fields) line[std::string(k)] = std::string(v);
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace

void Log(absl::string_view level, absl::string_view msg, std::initializer_list<LogField> fields) {
  Write(level, msg, fields);
}

void LogFields(absl::string_view level, absl::string_view msg,
               const std::vector<std::pair<std::string, std::string>>& fields) {
  Write(level, msg, fields);
}

}  // namespace cnpgi_pgbackrest
