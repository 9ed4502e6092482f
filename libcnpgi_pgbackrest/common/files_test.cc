#include "common/files.h"

#include <string>
#include <unistd.h>

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("ReadFile returns the whole file, or an error naming the path and the reason") {
  char tmpl[] = "/tmp/cnpgi-files-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string big(200000, 'x');
  REQUIRE(WriteFileAtomically(dir + "/f", big).ok());
  auto read = ReadFile(dir + "/f");
  REQUIRE(read.ok());
  CHECK(*read == big);
  CHECK(ReadFileText(dir + "/f") == big);

  auto missing = ReadFile(dir + "/none");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "cannot read " + dir + "/none: No such file or directory");
  CHECK(ReadFileText(dir + "/none").empty());
  CHECK(ReadFile(dir).status().code() == absl::StatusCode::kInternal);  // a directory
  unlink((dir + "/f").c_str());
  rmdir(dir.c_str());
}
