#include "common/wal_name.h"

#include <doctest/doctest.h>

using namespace cnpgi_pgbackrest;

TEST_CASE("ClassifyWalName knows every file PostgreSQL archives") {
  CHECK(ClassifyWalName("000000010000000000000003") == WalFileKind::kSegment);
  CHECK(ClassifyWalName("00000002000000010000000A.partial") == WalFileKind::kPartial);
  CHECK(ClassifyWalName("00000002.history") == WalFileKind::kHistory);
  CHECK(ClassifyWalName("000000010000000000000002.00000028.backup") == WalFileKind::kBackupHistory);
  CHECK_FALSE(ClassifyWalName("00000001000000000000000g"));
  CHECK_FALSE(ClassifyWalName("0000000100000000000000003"));
  CHECK_FALSE(ClassifyWalName("../etc/passwd"));
  CHECK_FALSE(ClassifyWalName("RECOVERYXLOG"));
  CHECK_FALSE(ClassifyWalName(""));
}

TEST_CASE("NextWalSegment crosses the 4 GiB boundary") {
  CHECK(NextWalSegment("000000010000000000000003") == "000000010000000000000004");
  CHECK(NextWalSegment("0000000100000000000000FF") == "000000010000000100000000");
  CHECK_FALSE(NextWalSegment("00000002.history"));
  // No 16 MiB segment is numbered past FF in its log file, and the last one has no successor
  // (tests/fuzz/wal_name_fuzz.cc found the wrap-around to a smaller name).
  CHECK_FALSE(NextWalSegment("FFFFFFFFFFFFFFAFFFFFFFFF"));
  CHECK_FALSE(NextWalSegment("000000010000000000000100"));
  CHECK_FALSE(NextWalSegment("00000001FFFFFFFF000000FF"));
  CHECK(NextWalSegment("00000001FFFFFFFE000000FF") == "00000001FFFFFFFF00000000");
}

TEST_CASE("CheckCleanAbsolutePath rejects relative and traversing paths") {
  CHECK(CheckCleanAbsolutePath("/var/lib/postgresql/data/pgdata/pg_wal/000000010000000000000001", "p").ok());
  CHECK_FALSE(CheckCleanAbsolutePath("pg_wal/000000010000000000000001", "p").ok());
  CHECK_FALSE(CheckCleanAbsolutePath("/pgdata/pg_wal/../../etc/passwd", "p").ok());
  CHECK_FALSE(CheckCleanAbsolutePath("/pgdata//pg_wal", "p").ok());
  CHECK_FALSE(CheckCleanAbsolutePath("/pgdata/./pg_wal", "p").ok());
  CHECK_FALSE(CheckCleanAbsolutePath("", "p").ok());
  auto s = CheckCleanAbsolutePath("relative", "destination_file_name");
  CHECK(std::string(s.message()).find("destination_file_name") != std::string::npos);
}

TEST_CASE("IsInsideDirectory is strict about prefixes") {
  CHECK(IsInsideDirectory("/pgdata/pg_wal/x", "/pgdata"));
  CHECK(IsInsideDirectory("/pgdata/pg_wal/x", "/pgdata/"));
  CHECK_FALSE(IsInsideDirectory("/pgdata", "/pgdata"));
  CHECK_FALSE(IsInsideDirectory("/pgdata2/x", "/pgdata"));
}
