#include "stanza/stanza_state.h"

#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/files.h"

namespace cnpgi_pgbackrest {
namespace {

// A value of pgBackRest's info files is JSON (numbers bare, strings quoted).
absl::StatusOr<nlohmann::json> InfoValue(absl::string_view section, absl::string_view key, absl::string_view value) {
  auto parsed = nlohmann::json::parse(value.begin(), value.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded())
    return absl::InvalidArgumentError(absl::StrCat("archive.info [", section, "] ", key, " is not a JSON value"));
  return parsed;
}

absl::Status Malformed(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("archive.info: ", what));
}

// One [db:history] entry. archive.info names the system identifier "db-id" there (backup.info
// "db-system-id"): both are accepted.
absl::StatusOr<StanzaDatabase> HistoryEntry(absl::string_view key, const nlohmann::json& value) {
  StanzaDatabase db;
  if (!absl::SimpleAtoi(key, &db.id) || !value.is_object())
    return Malformed(absl::StrCat("[db:history] entry '", key, "' is not id={...}"));
  const char* id_key = value.contains("db-system-id") ? "db-system-id" : "db-id";
  if (!value.contains(id_key) || !value[id_key].is_number_unsigned() || !value.contains("db-version") ||
      !value["db-version"].is_string())
    return Malformed(absl::StrCat("[db:history] entry ", key, " lacks a system identifier or db-version"));
  db.system_id = value[id_key].get<std::uint64_t>();
  db.version = value["db-version"].get<std::string>();
  return db;
}

}  // namespace

absl::StatusOr<ArchiveInfo> ParseArchiveInfo(absl::string_view text) {
  ArchiveInfo info;
  std::string section;
  bool has_id = false, has_system_id = false, has_version = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (line.front() == '[' && line.back() == ']') {
      section = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    if (section != "db" && section != "db:history") continue;
    auto eq = line.find('=');
    if (eq == absl::string_view::npos) return Malformed(absl::StrCat("line without '=' in [", section, "]"));
    absl::string_view key = line.substr(0, eq);
    auto value = InfoValue(section, key, line.substr(eq + 1));
    if (!value.ok()) return value.status();
    if (section == "db:history") {
      auto entry = HistoryEntry(key, *value);
      if (!entry.ok()) return entry.status();
      info.history.push_back(std::move(*entry));
    } else if (key == "db-id" && value->is_number_integer()) {
      info.current.id = value->get<int>();
      has_id = true;
    } else if (key == "db-system-id" && value->is_number_unsigned()) {
      info.current.system_id = value->get<std::uint64_t>();
      has_system_id = true;
    } else if (key == "db-version" && value->is_string()) {
      info.current.version = value->get<std::string>();
      has_version = true;
    }
  }
  if (!has_id || !has_system_id || !has_version)
    return Malformed("[db] lacks db-id, db-system-id or db-version (not an archive.info file?)");
  return info;
}

absl::StatusOr<LocalDatabase> ReadLocalDatabase(const std::string& pgdata) {
  LocalDatabase local;
  auto version = ReadFile(pgdata + "/PG_VERSION");
  if (!version.ok()) return version.status();
  local.version = std::string(absl::StripAsciiWhitespace(*version));
  if (!CompareMajorVersions(local.version, local.version))
    return absl::FailedPreconditionError(
        absl::StrCat(pgdata, "/PG_VERSION holds '", local.version, "', not a PostgreSQL major version"));
  auto control = ReadFile(pgdata + "/global/pg_control");
  if (!control.ok()) return control.status();
  if (control->size() < sizeof(local.system_id))
    return absl::FailedPreconditionError(absl::StrCat(pgdata, "/global/pg_control is truncated"));
  std::memcpy(&local.system_id, control->data(), sizeof(local.system_id));
  return local;
}

std::optional<int> CompareMajorVersions(absl::string_view a, absl::string_view b) {
  // "9.6" → 906, "15" → 1500: majors before 10 had two parts.
  auto number = [](absl::string_view v) -> std::optional<int> {
    std::vector<absl::string_view> parts = absl::StrSplit(v, '.');
    int major = 0, minor = 0;
    if (parts.empty() || parts.size() > 2 || !absl::SimpleAtoi(parts[0], &major) || major <= 0) return std::nullopt;
    if (parts.size() == 2 && (major >= 10 || !absl::SimpleAtoi(parts[1], &minor))) return std::nullopt;
    if (parts.size() == 1 && major < 10) return std::nullopt;
    return major * 100 + minor;
  };
  auto x = number(a), y = number(b);
  if (!x || !y) return std::nullopt;
  return *x < *y ? -1 : (*x > *y ? 1 : 0);
}

std::optional<int> PgDataMajorVersion(const nlohmann::json& cluster_status) {
  if (!cluster_status.is_object()) return std::nullopt;
  auto info = cluster_status.find("pgDataImageInfo");
  if (info == cluster_status.end() || !info->is_object()) return std::nullopt;
  auto major = info->find("majorVersion");
  if (major == info->end() || !major->is_number_integer() || major->get<int>() <= 0) return std::nullopt;
  return major->get<int>();
}

StanzaDecision DecideStanza(const ArchiveInfo& stanza, const LocalDatabase& local,
                            std::optional<int> cluster_major_version, absl::string_view what) {
  const StanzaDatabase& db = stanza.current;
  // Literal runs kept whole: README's Troubleshooting quotes this wording (tests/manifests/docs.mjs).
  auto refuse = [&](absl::string_view why, absl::string_view todo) {
    return StanzaDecision{
        StanzaAction::kRefuse,
        absl::StrCat(what, " belongs to PostgreSQL ", db.version, " with system identifier ", db.system_id,
                     " but this data directory is PostgreSQL ", local.version, " with system identifier ",
                     local.system_id, ": ", why, "; nothing is written into it. ", todo)};
  };
  const std::string kNewStanza = absl::StrCat("To write elsewhere, ", kNewStanzaAdvice);
  auto order = CompareMajorVersions(local.version, db.version);
  if (!order) return refuse("the versions cannot be compared", kNewStanza);
  if (*order == 0) {
    if (local.system_id == db.system_id) return {StanzaAction::kUse, ""};
    for (const auto& old : stanza.history)
      if (old.system_id == local.system_id && old.version == local.version && old.id != db.id)
        return refuse(absl::StrCat("this database is the stanza's older db-id ", old.id,
                                   "; the stanza has moved on to another database since"),
                      kNewStanza);
    return refuse("the stanza belongs to another database", kNewStanza);
  }
  if (*order < 0)
    return refuse(
        "the stanza is of a newer PostgreSQL major version than this data directory, and a stanza is "
        "never downgraded",
        absl::StrCat(kNewStanza, " (a restored older cluster must not write into the upgraded stanza)"));
  // PGDATA is newer: an in-place major upgrade (pg_upgrade gives a new system identifier), but only
  // when CNPG recorded it; otherwise an unrelated newer cluster would take the stanza over.
  std::string upgraded = absl::StrCat("PostgreSQL ", local.version);
  if (!cluster_major_version)
    return refuse(
        absl::StrCat("the Cluster's status.pgDataImageInfo does not show an in-place major upgrade to ", upgraded),
        absl::StrCat("If this Cluster was upgraded in place, stanza-upgrade runs once CNPG records "
                     "status.pgDataImageInfo.majorVersion ",
                     local.version, "; otherwise ", kNewStanzaAdvice));
  if (std::to_string(*cluster_major_version) != local.version)
    return refuse(absl::StrCat("the Cluster's status.pgDataImageInfo.majorVersion is ", *cluster_major_version,
                               ", not ", local.version),
                  absl::StrCat("stanza-upgrade runs once CNPG records the upgrade to ", upgraded, "; otherwise ",
                               kNewStanzaAdvice));
  return {StanzaAction::kUpgrade,
          absl::StrCat(what, " is upgraded from PostgreSQL ", db.version, " (system identifier ", db.system_id,
                       ") to PostgreSQL ", local.version, " (system identifier ", local.system_id, ")",
                       " (the Cluster's status.pgDataImageInfo.majorVersion is ", *cluster_major_version, ")")};
}

}  // namespace cnpgi_pgbackrest
