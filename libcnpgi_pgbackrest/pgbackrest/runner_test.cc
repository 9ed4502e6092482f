#include "pgbackrest/runner.h"

#include <filesystem>
#include <fstream>

#include <doctest/doctest.h>

#include "absl/strings/match.h"

#include "stanza/stanza_state.h"

using namespace cnpgi_pgbackrest;

TEST_CASE("Argv puts config and stanza first, and never a secret") {
  PgbackrestRunner runner("/usr/bin/pgbackrest");
  RenderedArchive a{"s3", "/work/s3/pgbackrest.conf", {"PGBACKREST_REPO1_S3_KEY_SECRET=hush"}};
  auto argv = runner.Argv(
      a, {.command = "archive-push", .stanza = "main", .args = {"/pgdata/pg_wal/000000010000000000000001"}});
  CHECK(argv == std::vector<std::string>{"/usr/bin/pgbackrest", "--config=/work/s3/pgbackrest.conf", "--stanza=main",
                                         "archive-push", "/pgdata/pg_wal/000000010000000000000001"});
}

TEST_CASE("Run hands secrets through the environment and hides inherited PGBACKREST_ variables") {
  // A fake pgbackrest that prints its environment and arguments.
  std::string fake = std::filesystem::temp_directory_path() / ("fake-pgbackrest-" + std::to_string(getpid()));
  {
    std::ofstream f(fake);
    f << "#!/bin/sh\nenv | grep '^PGBACKREST_' | sort\necho \"args: $*\"\n";
  }
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  setenv("PGBACKREST_SERVICE_PORT", "8443", 1);
  PgbackrestRunner runner(fake);
  RenderedArchive a{"s3", "/c.conf", {"PGBACKREST_REPO1_S3_KEY=AKID"}};
  auto r = runner.Run(a, {.command = "info", .stanza = "x"});
  unsetenv("PGBACKREST_SERVICE_PORT");
  std::filesystem::remove(fake);
  REQUIRE(r.ok());
  CHECK(r->out == "PGBACKREST_REPO1_S3_KEY=AKID\nargs: --config=/c.conf --stanza=x info\n");
}

TEST_CASE("PgbackrestStatus maps exit codes and quotes pgBackRest's error") {
  ProcessResult r;
  r.exit_code = 44;
  r.err =
      "WARN: something\nERROR: [044]: PostgreSQL version 15, system-id 1 do not match stanza version 15, system-id 2\n"
      "       HINT: are you archiving to the correct stanza?\n";
  auto s = PgbackrestStatus(r, "archiving X");
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message()) ==
        "archiving X failed (pgbackrest exit 44): ERROR: [044]: PostgreSQL version 15, system-id 1 do not match "
        "stanza version 15, system-id 2 HINT: are you archiving to the correct stanza? (" +
            std::string(kForeignStanzaHint) + ")");
  // stanza-create on another database's stanza: the same hint.
  ProcessResult create;
  create.exit_code = 28;
  create.err = "ERROR: [028]: backup and archive info files exist but do not match the database\n";
  CHECK(absl::StrContains(PgbackrestStatus(create, "creating").message(), kForeignStanzaHint));
  r.exit_code = 49;
  CHECK(PgbackrestStatus(r, "x").code() == absl::StatusCode::kUnavailable);
  r.exit_code = 105;
  CHECK(PgbackrestStatus(r, "x").code() == absl::StatusCode::kPermissionDenied);
  // 103 says "no valid repository"; the repository's own error decides the code.
  r.exit_code = 103;
  r.err =
      "ERROR: [103]: unable to find a valid repository:\n       repo1: [HostConnectError] unable to connect to "
      "'localhost:7499': [111] Connection refused\n";
  CHECK(PgbackrestStatus(r, "x").code() == absl::StatusCode::kUnavailable);
  CHECK(std::string(PgbackrestStatus(r, "x").message()).find("repo1: [HostConnectError] unable to connect") !=
        std::string::npos);
  r.err =
      "ERROR: [103]: unable to find a valid repository:\n repo1: [ProtocolError] HTTP request failed with 403 "
      "(Forbidden)\n";
  CHECK(PgbackrestStatus(r, "x").code() == absl::StatusCode::kPermissionDenied);
  r.err =
      "WARN: repo1: [FormatError] unable to load info file: key/value found outside of section at line 1: "
      "Salted__\xff\x01\n"
      "ERROR: [103]: unable to find a valid repository\n";
  auto garbled = PgbackrestStatus(r, "x");
  CHECK(garbled.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(garbled.message()).find("repo1: [FormatError]") != std::string::npos);
  CHECK(std::string(garbled.message()).find('\xff') == std::string::npos);
  CHECK(std::string(garbled.message()).find("line 1: <binary data>") != std::string::npos);
  CHECK(std::string(garbled.message()).find("Salted__") == std::string::npos);
  CHECK(std::string(garbled.message()).find("check the Archive's encryption and encryptionKey") != std::string::npos);
  r.exit_code = 0;
  CHECK(PgbackrestStatus(r, "x").ok());
  r.timed_out = true;
  CHECK(PgbackrestStatus(r, "x").code() == absl::StatusCode::kDeadlineExceeded);
  r.timed_out = false;
  r.cancelled = true;
  CHECK(PgbackrestStatus(r, "x").code() == absl::StatusCode::kCancelled);
}
