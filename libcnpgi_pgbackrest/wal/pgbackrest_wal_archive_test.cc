#include "wal/pgbackrest_wal_archive.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <doctest/doctest.h>

#include "absl/strings/str_cat.h"
#include "pgbackrest/scripted_engine_test_util.h"

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
    while (std::getline(in, line)) n += line.find("archive-push") != std::string::npos && line.find(seg) != std::string::npos;
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
