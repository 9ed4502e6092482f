// The pgBackRest `backup` options a CNPG Backup may set through pluginConfiguration.parameters.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cnpgi_pgbackrest {

enum class OptionKind { kEnum, kBool, kInt };

// One option, defined once as data: its name, kind and allowed values.
struct BackupOptionSpec {
  const char* name;
  OptionKind kind;
  std::vector<const char*> values;  // kEnum
  int min = 0;                      // kInt
  int max = 0;
  const char* help;
};

// Every option accepted for `backup`, in a stable order.
const std::vector<BackupOptionSpec>& BackupOptionSpecs();

// What the plugin reads from the Backup object itself (BackupRequest.backup_definition).
struct BackupObject {
  std::string name;
  std::string uid;
  bool immediate_checkpoint = false;  // spec.onlineConfiguration.immediateCheckpoint
  bool online = true;                 // spec.online
};

// Parses a Backup's JSON; fields of another type than expected are ignored, metadata.name is required.
absl::StatusOr<BackupObject> ParseBackupObject(const std::string& text);

// Validates parameters and turns them into --key=value flags; errors name the key and what is allowed.
absl::StatusOr<std::vector<std::string>> BackupFlags(const std::map<std::string, std::string>& parameters);

}  // namespace cnpgi_pgbackrest
