// Archiving real 16 MiB WAL segments through the plugin's WAL archive (in-process, synchronous
// pushes), per compression type, to a posix repository and, when the S3 test service's env is set
// (CNPGI_TEST_S3_*, see tests/services/rgw.sh), to S3. Run as the PostgreSQL owner:
//   BENCH_PGDATA=<data dir whose pg_wal holds segments> BENCH_WORK=<scratch> wal_archive_bench
// bench/side_by_side.sh prepares both and runs it.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <benchmark/benchmark.h>

#include "config/archive_catalog.h"
#include "pgbackrest/engine.h"
#include "wal/pgbackrest_wal_archive.h"

namespace {

using namespace cnpgi_pgbackrest;
using json = nlohmann::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::vector<std::string> Segments(const std::string& pgdata) {
  std::vector<std::string> out;
  std::regex segment("[0-9A-F]{24}");
  for (const auto& e : std::filesystem::directory_iterator(pgdata + "/pg_wal"))
    if (std::regex_match(e.path().filename().string(), segment)) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

json Repository(const std::string& kind, const std::string& path) {
  if (kind == "posix") return {{"type", "posix"}, {"destinationPath", path}};
  return {{"destinationPath", path},
          {"bucket", Env("CNPGI_TEST_S3_BUCKET")},
          {"endpointURL", Env("CNPGI_TEST_S3_ENDPOINT") + ":" + Env("CNPGI_TEST_S3_PORT")},
          {"uriStyle", "path"},
          {"endpointCA", {{"name", "s3-ca"}, {"key", "ca.crt"}}},
          {"s3Credentials",
           {{"region", Env("CNPGI_TEST_S3_REGION")},
            {"accessKeyId", {{"name", "s3"}, {"key", "id"}}},
            {"secretAccessKey", {{"name", "s3"}, {"key", "secret"}}}}}};
}

class BenchSecrets : public SecretResolver {
 public:
  absl::StatusOr<std::string> Resolve(const SecretKeyRef& ref) const override {
    if (ref.key == "id") return Env("CNPGI_TEST_S3_KEY");
    if (ref.key == "secret") return Env("CNPGI_TEST_S3_SECRET");
    std::ifstream in(Env("CNPGI_TEST_S3_CA_FILE"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
};

// One iteration archives the next segment into a repository of its own for this run.
void ArchiveSegment(benchmark::State& state, std::string kind, std::string compression) {
  std::string pgdata = Env("BENCH_PGDATA"), work = Env("BENCH_WORK");
  auto segments = Segments(pgdata);
  std::string name = kind + "-" + compression;
  std::string repo = kind == "posix" ? work + "/repo-" + name : "/bench-" + std::to_string(getpid()) + "-" + name;
  json archive = {
      {"metadata", {{"name", name}}},
      {"spec",
       {{"configuration", {{"repositories", json::array({Repository(kind, repo)})}, {"compression", compression}}}}}};
  auto archives = ParseArchiveList(json::array({archive}).dump());
  if (!archives.ok()) return state.SkipWithError(std::string(archives.status().message()).c_str());
  EngineOptions options;
  options.pod_name = "bench-1";
  options.work_dir = work + "/work";
  options.instance.pgdata = pgdata;
  options.instance.wal_push_processes = 0;  // one synchronous push per call: the per-segment cost
  Engine engine(options, std::make_unique<StaticArchiveCatalog>(std::move(*archives)),
                std::make_unique<BenchSecrets>());
  PgbackrestWalArchive wal(&engine, {.parallel = 1, .ahead = false});
  std::string cluster = json{{"metadata", {{"name", "bench"}}},
                             {"spec",
                              {{"plugins", json::array({{{"name", "pgbackrest.cnpg.opera.com"},
                                                         {"parameters", {{"pgbackrestObjectName", name}}}}})}}},
                             {"status", {{"currentPrimary", "bench-1"}}}}
                            .dump();
  // The first push creates the stanza; it is not what is measured.
  if (segments.size() < 2) return state.SkipWithError("BENCH_PGDATA/pg_wal holds fewer than 2 segments");
  if (auto s = wal.Archive({cluster, segments[0], false, {}}); !s.ok())
    return state.SkipWithError(std::string(s.message()).c_str());
  std::size_t next = 1;
  for (auto _ : state) {
    if (next >= segments.size()) {
      state.SkipWithError("ran out of segments");
      break;
    }
    if (auto s = wal.Archive({cluster, segments[next++], false, {}}); !s.ok())
      state.SkipWithError(std::string(s.message()).c_str());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * (16 << 20));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (Env("BENCH_PGDATA").empty() || Env("BENCH_WORK").empty()) {
    fprintf(stderr, "set BENCH_PGDATA (a data directory with WAL segments) and BENCH_WORK\n");
    return 2;
  }
  // Every case has a repository of its own, so each may use the same segments (the first creates the stanza).
  int per_run = std::min<int>(16, static_cast<int>(Segments(Env("BENCH_PGDATA")).size()) - 1);
  std::vector<std::string> kinds = {"posix"};
  if (!Env("CNPGI_TEST_S3_ENDPOINT").empty()) kinds.push_back("s3");
  for (const auto& kind : kinds)
    for (const char* compression : {"none", "lz4", "zst", "gz"})
      benchmark::RegisterBenchmark(("ArchiveSegment/" + kind + "/" + compression).c_str(), ArchiveSegment, kind,
                                   std::string(compression))
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime()
          ->Iterations(per_run);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
