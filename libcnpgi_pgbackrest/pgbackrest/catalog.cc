#include "pgbackrest/catalog.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "pgbackrest/runner.h"

namespace cnpgi_pgbackrest {
namespace {

using json = nlohmann::json;

std::string Str(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t Int(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

const json& Obj(const json& obj, const char* key) {
  static const json empty = json::object();
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : empty;
}

}  // namespace

std::optional<uint64_t> ParseLsn(const std::string& lsn) {
  unsigned hi = 0, lo = 0;
  char tail = 0;
  if (std::sscanf(lsn.c_str(), "%X/%X%c", &hi, &lo, &tail) != 2) return std::nullopt;
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

absl::StatusOr<StanzaCatalog> ParseStanzaInfo(const json& stanza) {
  if (!stanza.is_object()) return absl::InternalError("pgbackrest info: stanza entry is not an object");
  StanzaCatalog c;
  c.name = Str(stanza, "name");
  c.status_code = static_cast<int>(Int(Obj(stanza, "status"), "code"));
  c.status_message = Str(Obj(stanza, "status"), "message");
  c.cipher = Str(stanza, "cipher");
  if (auto it = stanza.find("backup"); it != stanza.end() && it->is_array()) {
    for (const auto& b : *it) {
      BackupRecord r;
      r.label = Str(b, "label");
      r.type = Str(b, "type");
      r.prior = Str(b, "prior");
      r.start_time = Int(Obj(b, "timestamp"), "start");
      r.stop_time = Int(Obj(b, "timestamp"), "stop");
      r.wal_start = Str(Obj(b, "archive"), "start");
      r.wal_stop = Str(Obj(b, "archive"), "stop");
      r.lsn_start = Str(Obj(b, "lsn"), "start");
      r.lsn_stop = Str(Obj(b, "lsn"), "stop");
      r.database_id = static_cast<int>(Int(Obj(b, "database"), "id"));
      r.repo_key = static_cast<int>(Int(Obj(b, "database"), "repo-key"));
      if (auto e = b.find("error"); e != b.end() && e->is_boolean()) r.error = e->get<bool>();
      for (auto& [k, v] : Obj(b, "annotation").items())
        if (v.is_string()) r.annotations[k] = v.get<std::string>();
      if (r.label.empty()) return absl::InternalError("pgbackrest info: a backup has no label");
      c.backups.push_back(std::move(r));
    }
  }
  if (auto it = stanza.find("repo"); it != stanza.end() && it->is_array()) {
    for (const auto& r : *it) {
      const json& st = Obj(r, "status");
      if (Int(st, "code") != 0 && Int(st, "code") != 2)
        absl::StrAppend(&c.repo_errors, c.repo_errors.empty() ? "" : "; ", "repo", Int(r, "key"), ": ",
                        Str(st, "message"));
    }
  }
  if (auto it = stanza.find("archive"); it != stanza.end() && it->is_array()) {
    for (const auto& a : *it) {
      ArchiveRange r;
      r.id = Str(a, "id");
      r.database_id = static_cast<int>(Int(Obj(a, "database"), "id"));
      r.repo_key = static_cast<int>(Int(Obj(a, "database"), "repo-key"));
      r.min = Str(a, "min");
      r.max = Str(a, "max");
      c.archives.push_back(std::move(r));
    }
  }
  return c;
}

absl::Status RequireReadable(const StanzaCatalog& catalog, const std::string& what) {
  if (catalog.status_code == 0 || catalog.status_code == 1 || catalog.status_code == 2) return absl::OkStatus();
  std::string detail =
      CleanPgbackrestMessage(catalog.repo_errors.empty() ? catalog.status_message : catalog.repo_errors);
  return absl::FailedPreconditionError(absl::StrCat(what, " cannot be read (pgbackrest info status ",
                                                    catalog.status_code, "): ", detail));
}

}  // namespace cnpgi_pgbackrest
