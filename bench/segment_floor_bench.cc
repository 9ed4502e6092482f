// The physical floor of archiving one 16 MiB WAL segment in-process: read it, SHA-1 it (what
// pgBackRest names the file by) and compress it with the same algorithm. Nothing can archive
// a segment faster than this on the same machine.
//   segment_floor_bench --segment=FILE   (default: a synthetic segment of mostly-compressible WAL)
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <openssl/sha.h>

#ifdef HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef HAVE_LZ4
#include <lz4frame.h>
#endif
#ifdef HAVE_ZSTD
#include <zstd.h>
#endif

namespace {

std::string g_segment_path;

std::string LoadSegment() {
  if (!g_segment_path.empty()) {
    std::ifstream in(g_segment_path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // Roughly WAL-like: page headers and records of repetitive tuples, with some entropy.
  std::string seg(16 << 20, '\0');
  std::mt19937 rng(42);
  for (std::size_t i = 0; i < seg.size(); i += 64) {
    std::snprintf(&seg[i], 48, "tuple %zu value %u ", i, rng() % 1000);
  }
  return seg;
}

const std::string& Segment() {
  static std::string s = LoadSegment();
  return s;
}

void Sha1(const std::string& data, benchmark::State& state) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  benchmark::DoNotOptimize(digest);
  (void)state;
}

void BM_ReadAndSha1(benchmark::State& state) {
  for (auto _ : state) {
    std::string copy = Segment();  // the read: one pass over 16 MiB
    Sha1(copy, state);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * Segment().size());
}
BENCHMARK(BM_ReadAndSha1)->Unit(benchmark::kMillisecond)->UseRealTime();

#ifdef HAVE_LZ4
void BM_Sha1AndLz4(benchmark::State& state) {
  std::vector<char> out(LZ4F_compressFrameBound(Segment().size(), nullptr));
  for (auto _ : state) {
    Sha1(Segment(), state);
    benchmark::DoNotOptimize(LZ4F_compressFrame(out.data(), out.size(), Segment().data(), Segment().size(), nullptr));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * Segment().size());
}
BENCHMARK(BM_Sha1AndLz4)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

#ifdef HAVE_ZSTD
void BM_Sha1AndZstd(benchmark::State& state) {
  std::vector<char> out(ZSTD_compressBound(Segment().size()));
  for (auto _ : state) {
    Sha1(Segment(), state);
    benchmark::DoNotOptimize(ZSTD_compress(out.data(), out.size(), Segment().data(), Segment().size(), 3));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * Segment().size());
}
BENCHMARK(BM_Sha1AndZstd)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

#ifdef HAVE_ZLIB
void BM_Sha1AndGzip(benchmark::State& state) {
  std::vector<Bytef> out(compressBound(Segment().size()));
  for (auto _ : state) {
    Sha1(Segment(), state);
    uLongf len = out.size();
    // pgBackRest's default gz level is 6.
    benchmark::DoNotOptimize(
        compress2(out.data(), &len, reinterpret_cast<const Bytef*>(Segment().data()), Segment().size(), 6));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * Segment().size());
}
BENCHMARK(BM_Sha1AndGzip)->Unit(benchmark::kMillisecond)->UseRealTime();
#endif

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--segment=", 10) == 0) {
      g_segment_path = argv[i] + 10;
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
