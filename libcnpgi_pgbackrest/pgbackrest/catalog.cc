#include "pgbackrest/catalog.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "common/json.h"
#include "pgbackrest/runner.h"

namespace cnpgi_pgbackrest {

using json = nlohmann::json;

bool IsArchiveId(absl::string_view id) {
  // <PostgreSQL major version>-<history id>, e.g. 15-1 (or 9.6-2).
  auto dash = id.find('-');
  if (dash == absl::string_view::npos || dash == 0 || dash + 1 == id.size() || id.size() > 32) return false;
  for (std::size_t i = 0; i < id.size(); ++i)
    if (i != dash && !absl::ascii_isdigit(id[i]) && !(id[i] == '.' && i < dash)) return false;
  return true;
}

std::optional<uint64_t> ParseLsn(const std::string& lsn) {
  unsigned hi = 0, lo = 0;
  char tail = 0;
  if (std::sscanf(lsn.c_str(), "%X/%X%c", &hi, &lo, &tail) != 2) return std::nullopt;
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

absl::StatusOr<json> StanzaOfInfoOutput(std::string output, const std::string& stanza) {
  // A wrong cipher key makes pgBackRest quote decrypted bytes in status messages: not UTF-8.
  std::string original = output.substr(0, 200);
  for (char& ch : output) {
    auto u = static_cast<unsigned char>(ch);
    if (u >= 0x80 || (u < 0x20 && ch != '\n' && ch != '\t' && ch != '\r')) ch = '?';
  }
  auto doc = ParseJson(output, "pgbackrest info output");
  if (!doc.ok() || !doc->is_array())
    return absl::InternalError(absl::StrCat("pgbackrest info did not return a JSON array: ", original));
  for (auto& s : *doc)
    if (StringAt(s, "name") == stanza) return std::move(s);
  return absl::NotFoundError(absl::StrCat("pgbackrest info has no stanza '", stanza, "'"));
}

absl::StatusOr<StanzaCatalog> ParseStanzaInfo(const json& stanza) {
  if (!stanza.is_object()) return absl::InternalError("pgbackrest info: stanza entry is not an object");
  StanzaCatalog c;
  c.name = StringAt(stanza, "name");
  c.status_code = static_cast<int>(IntAt(ObjectAt(stanza, "status"), "code"));
  c.status_message = StringAt(ObjectAt(stanza, "status"), "message");
  c.cipher = StringAt(stanza, "cipher");
  if (auto it = stanza.find("backup"); it != stanza.end() && it->is_array()) {
    for (const auto& b : *it) {
      BackupRecord r;
      r.label = StringAt(b, "label");
      r.type = StringAt(b, "type");
      r.prior = StringAt(b, "prior");
      r.start_time = IntAt(ObjectAt(b, "timestamp"), "start");
      r.stop_time = IntAt(ObjectAt(b, "timestamp"), "stop");
      r.wal_start = StringAt(ObjectAt(b, "archive"), "start");
      r.wal_stop = StringAt(ObjectAt(b, "archive"), "stop");
      r.lsn_start = StringAt(ObjectAt(b, "lsn"), "start");
      r.lsn_stop = StringAt(ObjectAt(b, "lsn"), "stop");
      r.database_id = static_cast<int>(IntAt(ObjectAt(b, "database"), "id"));
      r.repo_key = static_cast<int>(IntAt(ObjectAt(b, "database"), "repo-key"));
      r.repo_delta_bytes = IntAt(ObjectAt(ObjectAt(b, "info"), "repository"), "delta");
      if (auto e = b.find("error"); e != b.end() && e->is_boolean()) r.error = e->get<bool>();
      for (auto& [k, v] : ObjectAt(b, "annotation").items())
        if (v.is_string()) r.annotations[k] = v.get<std::string>();
      if (r.label.empty()) return absl::InternalError("pgbackrest info: a backup has no label");
      c.backups.push_back(std::move(r));
    }
  }
  if (auto it = stanza.find("repo"); it != stanza.end() && it->is_array()) {
    for (const auto& r : *it) {
      const json& st = ObjectAt(r, "status");
      c.repositories.push_back({.key = static_cast<int>(IntAt(r, "key")),
                                .status_code = static_cast<int>(IntAt(st, "code")),
                                .status_message = StringAt(st, "message")});
      if (IntAt(st, "code") != 0 && IntAt(st, "code") != 2)
        absl::StrAppend(&c.repo_errors, c.repo_errors.empty() ? "" : "; ", "repo", IntAt(r, "key"), ": ",
                        StringAt(st, "message"));
    }
  }
  if (auto it = stanza.find("archive"); it != stanza.end() && it->is_array()) {
    for (const auto& a : *it) {
      ArchiveRange r;
      r.id = StringAt(a, "id");
      r.database_id = static_cast<int>(IntAt(ObjectAt(a, "database"), "id"));
      r.repo_key = static_cast<int>(IntAt(ObjectAt(a, "database"), "repo-key"));
      r.min = StringAt(a, "min");
      r.max = StringAt(a, "max");
      c.archives.push_back(std::move(r));
    }
  }
  return c;
}

absl::Status RequireReadable(const StanzaCatalog& catalog, const std::string& what) {
  if (catalog.status_code == 0 || catalog.status_code == 1 || catalog.status_code == 2) return absl::OkStatus();
  std::string detail =
      CleanPgbackrestMessage(catalog.repo_errors.empty() ? catalog.status_message : catalog.repo_errors);
  return absl::FailedPreconditionError(
      absl::StrCat(what, " cannot be read (pgbackrest info status ", catalog.status_code, "): ", detail));
}

}  // namespace cnpgi_pgbackrest
