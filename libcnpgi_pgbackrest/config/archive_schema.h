// The Archive's spec schema, defined once: the parser checks objects against it (unknown fields,
// types, allowed values, integer ranges, defaults) and tools/archive_crd_schema.cc prints the CRD's
// openAPIV3Schema `spec` from it (tests/manifests/crd-schema.mjs compares that with the CRD).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"

namespace cnpgi_pgbackrest {

struct SchemaField {
  enum class Type { kObject, kMap, kArray, kString, kInteger, kBoolean, kLiteral };

  Type type = Type::kObject;
  std::string description;
  std::vector<std::string> values;  // allowed values (strings); empty: any
  std::optional<std::int64_t> minimum, maximum;
  nlohmann::ordered_json default_value;                    // null: none
  std::vector<std::string> names;                          // kObject: property names, in order
  std::vector<SchemaField> children;                       // kObject: their schemas; kArray, kMap: the item's
  std::vector<std::string> required;                       // the CRD's (the parser's messages for them are its own)
  std::vector<std::pair<std::string, std::string>> rules;  // CEL rule, message (the CRD's)
  nlohmann::ordered_json crd = nlohmann::ordered_json::object();  // other CRD keywords (pattern, ...)
  std::string literal;  // kLiteral: a Kubernetes type the CRD spells out (core/v1 ...); not checked here
  std::string literal_type;

  SchemaField&& Enum(std::vector<std::string> v) && {
    values = std::move(v);
    return std::move(*this);
  }
  SchemaField&& Default(nlohmann::ordered_json v) && {
    default_value = std::move(v);
    return std::move(*this);
  }
  SchemaField&& Required(std::vector<std::string> v) && {
    required = std::move(v);
    return std::move(*this);
  }
  SchemaField&& Rule(std::string rule, std::string message) && {
    rules.emplace_back(std::move(rule), std::move(message));
    return std::move(*this);
  }
  SchemaField&& Crd(const std::string& keyword, nlohmann::ordered_json v) && {
    crd[keyword] = std::move(v);
    return std::move(*this);
  }
  // The schema of property name, or nullptr.
  const SchemaField* Property(const std::string& name) const;
};

// spec of the Archive (pgbackrest.cnpg.opera.com/v1).
const SchemaField& ArchiveSpecSchema();

// Checks value against field: unknown fields, types, allowed values and integer ranges, each error
// naming its path (e.g. "spec.configuration.repositories[0].type: 'nfs' is not one of: s3, ...").
absl::Status CheckAgainstSchema(const nlohmann::json& value, const SchemaField& field, const std::string& path);

// value with the defaults of field filled in where their parent object is present, as the API
// server stores an object (call after CheckAgainstSchema).
nlohmann::json WithDefaults(nlohmann::json value, const SchemaField& field);

// The CRD's openAPIV3Schema node for field. A kLiteral node is {"x-cnpgi-literal": "<type>"}: the
// CRD keeps the Kubernetes type's schema as written there.
nlohmann::ordered_json CrdSchema(const SchemaField& field);

}  // namespace cnpgi_pgbackrest
