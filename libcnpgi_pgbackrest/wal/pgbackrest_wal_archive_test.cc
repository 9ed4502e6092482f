#include "wal/pgbackrest_wal_archive.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"

#include "pgbackrest/scripted_engine_test_util.h"
#include "wal/pgbackrest_wal_restore.h"

using namespace cnpgi_pgbackrest;
namespace fs = std::filesystem;

namespace {

// pgbackrest logs its commands: info shows an empty stanza, archive-push of the segments named
// in <dir>/fail fails, everything else succeeds.
struct FakeInstance : testing::ScriptedEngine {
  FakeInstance() : ScriptedEngine("") {
    std::ofstream(dir + "/fail");
    SetScript(absl::StrCat(
        "echo \"$*\" >> ", dir, "/calls\n", "case \"$*\" in\n",
        "  *info*) echo '[{\"name\":\"cluster-example\",\"status\":{\"code\":1,\"message\":\"missing stanza path\"},"
        "\"archive\":[],\"backup\":[]}]' ;;\n",
        "  *archive-push*) for f in $(cat ", dir, "/fail); do case \"$*\" in *$f*) ",
        "echo 'ERROR: [045]: cannot write' >&2; exit 45 ;; esac; done ;;\n", "esac\nexit 0\n"));
  }
  std::string Ready(const std::string& seg) {
    std::ofstream(dir + "/pgdata/pg_wal/" + seg) << "wal";
    std::ofstream(dir + "/pgdata/pg_wal/archive_status/" + seg + ".ready");
    return dir + "/pgdata/pg_wal/" + seg;
  }
  int Pushes(const std::string& seg) {
    std::ifstream in(dir + "/calls");
    std::string line;
    int n = 0;
    while (std::getline(in, line))
      n += line.find("archive-push") != std::string::npos && line.find(seg) != std::string::npos;
    return n;
  }
};

WalArchiveRequest Request(const std::string& path, bool check_empty) {
  WalArchiveRequest r;
  r.cluster_definition = testing::kScriptedCluster;
  r.source_file_name = path;
  r.check_empty_wal_archive = check_empty;
  r.cancelled = [] { return false; };
  return r;
}

}  // namespace

TEST_CASE("The first WAL of a new cluster: nothing is pushed ahead until it is stored") {
  FakeInstance f;
  PgbackrestWalArchive archive(f.engine.get(), {.parallel = 2, .ahead = true});
  const std::string first = "000000010000000000000001", second = "000000010000000000000002";
  std::ofstream(f.dir + "/fail") << first;
  std::string path = f.Ready(first);
  absl::Status st = archive.Archive(Request(path, true));
  CHECK_FALSE(st.ok());
  f.Ready(second);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  CHECK(f.Pushes(second) == 0);  // else the retry below would find WAL in the stanza and fail for good

  std::ofstream(f.dir + "/fail").close();  // the repository works again
  CHECK(archive.Archive(Request(path, true)).ok());
  for (int i = 0; i < 100 && f.Pushes(second) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(f.Pushes(second) == 1);  // push-ahead from then on
  CHECK(archive.stats().archived == 1);
  CHECK(archive.stats().failed == 1);
}

namespace {

// kScriptedCluster with other plugin parameters.
std::string ClusterWith(const std::string& parameters) {
  return R"({"metadata":{"name":"cluster-example","namespace":"default"},"spec":{"plugins":[{"name":"pgbackrest.cnpg.opera.com",)"
         R"("parameters":)" +
         parameters + R"(}]},"status":{"currentPrimary":"cluster-example-1"}})";
}

int Calls(const std::string& dir) {
  std::ifstream in(dir + "/calls");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) ++n;
  return n;
}

}  // namespace

TEST_CASE("A WAL file that is a symbolic link is never archived, by a call or by push-ahead") {
  FakeInstance f;
  PgbackrestWalArchive archive(f.engine.get(), {.parallel = 2, .ahead = true});
  std::ofstream(f.dir + "/outside-secret") << "not WAL";
  std::string history = f.dir + "/pgdata/pg_wal/0000000A.history";
  REQUIRE(symlink((f.dir + "/outside-secret").c_str(), history.c_str()) == 0);
  std::ofstream(f.dir + "/pgdata/pg_wal/archive_status/0000000A.history.ready");
  auto refused = archive.Archive(Request(history, false));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(refused.message()).find("is a symbolic link") != std::string::npos);
  CHECK(f.Pushes("0000000A.history") == 0);

  // Push-ahead armed by a good segment skips a linked .ready segment, and never goes async over it.
  CHECK(archive.Archive(Request(f.Ready("000000010000000000000001"), false)).ok());
  std::string linked = f.dir + "/pgdata/pg_wal/000000010000000000000002";
  REQUIRE(symlink((f.dir + "/outside-secret").c_str(), linked.c_str()) == 0);
  std::ofstream(f.dir + "/pgdata/pg_wal/archive_status/000000010000000000000002.ready");
  f.Ready("000000010000000000000003");
  for (int i = 0; i < 100 && f.Pushes("000000010000000000000003") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(f.Pushes("000000010000000000000003") == 1);
  CHECK(f.Pushes("000000010000000000000002") == 0);
  CHECK_FALSE(archive.Archive(Request(linked, false)).ok());
}

TEST_CASE("Only files directly in pg_wal are archived") {
  FakeInstance f;
  PgbackrestWalArchive archive(f.engine.get(), {.parallel = 1, .ahead = false});
  fs::create_directories(f.dir + "/pgdata/pg_wal/sub");
  std::ofstream(f.dir + "/pgdata/pg_wal/sub/000000010000000000000001") << "wal";
  auto deeper = archive.Archive(Request(f.dir + "/pgdata/pg_wal/sub/000000010000000000000001", false));
  CHECK(deeper.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Calls(f.dir) == 0);
}

TEST_CASE("A stanza that would escape the repository is refused before anything runs or is written") {
  FakeInstance f;
  PgbackrestWalArchive archive(f.engine.get(), {.parallel = 1, .ahead = true});
  WalArchiveRequest r = Request(f.Ready("000000010000000000000001"), false);
  r.cluster_definition = ClusterWith(R"({"pgbackrestObjectName":"local","stanza":"../../../../tmp/victim"})");
  auto st = archive.Archive(r);
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(st.message()).find("spec.plugins[0].parameters.stanza") == 0);
  CHECK(Calls(f.dir) == 0);
  CHECK_FALSE(fs::exists(f.dir + "/work/wal-push-target.json"));  // nothing a restart could revive

  // WAL restore empties its spool directory, which is named after the stanza: a victim directory
  // outside the work dir keeps its files.
  fs::create_directories(f.dir + "/victim");
  std::ofstream(f.dir + "/victim/keep") << "data";
  PgbackrestWalRestore restore(f.engine.get(), {.prefetch = 4, .spool_dir = f.dir + "/work/spool"});
  WalRestoreRequest get;
  get.cluster_definition = ClusterWith(absl::StrCat(R"({"pgbackrestObjectName":"local","stanza":"../../victim"})"));
  get.source_wal_name = "000000010000000000000001";
  get.destination_file_name = f.dir + "/pgdata/pg_wal/RECOVERYXLOG";
  get.mode = WalRestoreMode::kRecovery;
  get.cancelled = [] { return false; };
  auto got = restore.Restore(get);
  CHECK(got.code() == absl::StatusCode::kInvalidArgument);
  CHECK(fs::exists(f.dir + "/victim/keep"));
  CHECK(Calls(f.dir) == 0);
}
