#include "common/json.h"

#include <string>

#include <doctest/doctest.h>

#include "common/text.h"

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

namespace {

// {"a":{"a":...{}...}} with `depth` objects; the innermost one holds `leaf`.
std::string Nested(int depth, const std::string& leaf = "") {
  std::string out;
  for (int i = 0; i < depth - 1; ++i) out += "{\"a\":";
  out += "{" + leaf + "}";
  out.append(static_cast<std::size_t>(depth - 1), '}');
  return out;
}

}  // namespace

TEST_CASE("ParseJson refuses documents nested deeper than Kubernetes allows, before parsing them") {
  auto at_limit = ParseJson(Nested(kMaxJsonDepth), "cluster definition");
  REQUIRE(at_limit.ok());
  json copy = *at_limit;  // copies recurse: the limit keeps them within a thread's stack
  CHECK(copy == *at_limit);

  auto deep = ParseJson(Nested(kMaxJsonDepth + 1), "cluster definition");
  REQUIRE_FALSE(deep.ok());
  CHECK(deep.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(deep.status().message()) ==
        "cluster definition is nested more than 10000 levels deep (Kubernetes refuses such objects too)");
  // Arrays count too, and so does the 100,000-level document that used to end the hosts.
  CHECK_FALSE(ParseJson(std::string(100000, '[') + std::string(100000, ']'), "x").ok());
  // Brackets inside strings are text, not nesting (escaped quotes included).
  std::string text = "{\"s\":\"" + std::string(20000, '[') + "\\\"" + std::string(20000, '{') + "\"}";
  auto in_string = ParseJson(text, "x");
  REQUIRE(in_string.ok());
  CHECK((*in_string)["s"].get<std::string>().size() == 40001);
}

TEST_CASE("ParseJson and ParseJsonObject name what is wrong") {
  CHECK(std::string(ParseJson("{", "pgbackrest info output").status().message()) ==
        "pgbackrest info output is not valid JSON");
  CHECK(std::string(ParseJsonObject("[1]", "backup definition").status().message()) ==
        "backup definition is not a JSON object");
  CHECK(ParseJsonObject("{\"a\":1}", "x").ok());
}

TEST_CASE("Lenient field readers never throw, whatever type outside input puts where") {
  json doc = json::parse(R"({"s":"v","n":5,"o":{"k":1},"a":[1],"b":true})");
  CHECK(StringAt(doc, "s") == "v");
  CHECK(StringAt(doc, "n").empty());
  CHECK(StringAt(json("text"), "s").empty());
  CHECK(StringAt(json::array({1}), "s").empty());
  CHECK(ObjectAt(doc, "o").contains("k"));
  CHECK(ObjectAt(doc, "s").empty());
  CHECK(ObjectAt(json(3), "o").is_object());
  CHECK(ArrayAt(doc, "a").size() == 1);
  CHECK(ArrayAt(doc, "o").empty());
  CHECK(IntAt(doc, "n") == 5);
  CHECK(IntAt(doc, "s", -1) == -1);
  CHECK(BoolAt(doc, "b", false));
  CHECK(BoolAt(doc, "n", true));
}

TEST_CASE("Quoted cuts echoed values to a readable length; CappedMessage bounds a whole message") {
  CHECK(Quoted("stanza") == "'stanza'");
  std::string huge(1 << 20, 'x');
  std::string q = Quoted(huge);
  CHECK(q.size() < 200);
  CHECK(q.find("(1048576 bytes)") != std::string::npos);
  // Never splits a UTF-8 character.
  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "é";
  std::string cut = Quoted(accents, 5);
  CHECK(cut == "'éé…' (200 bytes)");
  CHECK(CappedMessage("short") == "short");
  std::string capped = CappedMessage(huge);
  CHECK(capped.size() < 4200);
  CHECK(capped.find("message cut, 1048576 bytes") != std::string::npos);
}
