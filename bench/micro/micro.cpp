// hfmirror micro benchmarks: whole-file hashing (ContentHasher), per-part checksum options,
// the SigV4 signer and the buffer pool. Compare the hashing rows with
// `openssl speed -evp sha256 -bytes 16384` on the same machine (bench/micro/run does both).
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <nmmintrin.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <chrono>
#include <cstring>
#include <random>
#include <vector>

#include "auth/sigv4.h"
#include "core/hash.h"
#include "pipeline/buffer_pool.h"

namespace {

const std::vector<std::byte>& data16m() {
  static std::vector<std::byte> d = [] {
    std::vector<std::byte> v(16u << 20);
    std::mt19937_64 rng(42);
    for (size_t i = 0; i + 8 <= v.size(); i += 8) {
      uint64_t x = rng();
      std::memcpy(v.data() + i, &x, 8);
    }
    return v;
  }();
  return d;
}

// Whole-file hash as the pipeline feeds it: one 16 MiB part per update() by default,
// or `chunk` bytes per update (16 KiB = openssl speed's block, 1 MiB = curl-ish writes).
void BM_ContentHasher(benchmark::State& st, hfm::HashKind kind) {
  const auto& d = data16m();
  const size_t chunk = static_cast<size_t>(st.range(0));
  for (auto _ : st) {
    hfm::ContentHasher h(kind, d.size());
    for (size_t off = 0; off < d.size(); off += chunk)
      h.update(std::span<const std::byte>(d.data() + off, std::min(chunk, d.size() - off)));
    benchmark::DoNotOptimize(h.finish_hex());
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(d.size()));
}
BENCHMARK_CAPTURE(BM_ContentHasher, sha256, hfm::HashKind::kSha256)
    ->Arg(16 << 10)
    ->Arg(1 << 20)
    ->Arg(16 << 20)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_ContentHasher, git_sha1, hfm::HashKind::kGitSha1)
    ->Arg(16 << 10)
    ->Arg(1 << 20)
    ->Arg(16 << 20)
    ->UseRealTime();

// Per-part integrity options for a 16 MiB part.
void BM_PartEvp(benchmark::State& st, const EVP_MD* (*md)()) {
  const auto& d = data16m();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  for (auto _ : st) {
    EVP_Digest(d.data(), d.size(), out, &n, md(), nullptr);
    benchmark::DoNotOptimize(out);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(d.size()));
}
BENCHMARK_CAPTURE(BM_PartEvp, sha256_sigv4_payload, EVP_sha256)->UseRealTime();
BENCHMARK_CAPTURE(BM_PartEvp, md5_content_md5, EVP_md5)->UseRealTime();
BENCHMARK_CAPTURE(BM_PartEvp, sha1, EVP_sha1)->UseRealTime();

void BM_PartCrc32_zlib(benchmark::State& st) {
  const auto& d = data16m();
  for (auto _ : st) {
    uLong c = crc32_z(0L, reinterpret_cast<const Bytef*>(d.data()), d.size());
    benchmark::DoNotOptimize(c);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(d.size()));
}
BENCHMARK(BM_PartCrc32_zlib)->UseRealTime();

// CRC32C (x-amz-checksum-crc32c) with the SSE4.2 instruction, one stream (no 3-way interleave:
// a lower bound on what a tuned implementation gets).
void BM_PartCrc32c_sse42(benchmark::State& st) {
  const auto& d = data16m();
  for (auto _ : st) {
    uint64_t c = 0xffffffffu;
    const auto* p = reinterpret_cast<const unsigned char*>(d.data());
    for (size_t i = 0; i + 8 <= d.size(); i += 8) {
      uint64_t v;
      std::memcpy(&v, p + i, 8);
      c = _mm_crc32_u64(c, v);
    }
    benchmark::DoNotOptimize(c);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(d.size()));
}
BENCHMARK(BM_PartCrc32c_sse42)->UseRealTime();

// SigV4: sign an UploadPart request (payload hash given, as the pipeline does).
void BM_SignV4_UploadPart(benchmark::State& st) {
  hfm::auth::AwsCredentials cred{"TESTACCESSKEY0000001", hfm::Secret("testsecretkey0000000000000000000000001"),
                                 std::nullopt, std::nullopt, "bench"};
  hfm::auth::SigningRequest req;
  req.method = "PUT";
  req.host = "127.0.0.1:7480";
  req.path = "/hfm-bench/" + hfm::auth::uri_encode_s3_path("models/acme/model-00001-of-00004.safetensors");
  req.query = {{"partNumber", "17"}, {"uploadId", "2~abcdefghijklmnopqrstuvwxyz012345"}};
  req.headers = {{"content-length", "16777216"}, {"content-type", "application/octet-stream"}};
  req.payload_sha256_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  auto now = std::chrono::system_clock::now();
  for (auto _ : st) benchmark::DoNotOptimize(hfm::auth::sign_v4(req, cred, "us-east-1", "s3", now));
}
BENCHMARK(BM_SignV4_UploadPart);

// Buffer pool: acquire + release of a 16 MiB part buffer (steady state: already allocated),
// and first use (allocation + first touch of every page, what a cold pool costs per buffer).
void BM_BufferPool_AcquireRelease(benchmark::State& st) {
  hfm::pipeline::BufferPool pool(32, 16u << 20);
  std::vector<size_t> ids;
  while (auto id = pool.try_acquire()) ids.push_back(*id);
  for (size_t id : ids) pool.release(id);
  for (auto _ : st) {
    auto id = pool.try_acquire();
    benchmark::DoNotOptimize(pool.data(*id));
    pool.release(*id);
  }
}
BENCHMARK(BM_BufferPool_AcquireRelease);

void BM_BufferPool_FirstTouch16MiB(benchmark::State& st) {
  // A fixed mmap threshold: otherwise glibc raises it after the first free and every later
  // 16 MiB buffer is recycled, already-faulted heap memory (not a first touch).
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  for (auto _ : st) {
    hfm::pipeline::BufferPool pool(1, 16u << 20);
    auto id = pool.try_acquire();
    char* p = pool.data(*id);
    for (size_t i = 0; i < (16u << 20); i += 4096) p[i] = 1;
    benchmark::DoNotOptimize(p);
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * (16 << 20));
}
BENCHMARK(BM_BufferPool_FirstTouch16MiB)->UseRealTime();

// memcpy of a 16 KiB curl write-callback chunk into a part buffer (the one copy on receive).
void BM_ReceiveCopy16KiB(benchmark::State& st) {
  const auto& d = data16m();
  std::vector<char> dst(16u << 20);
  for (auto _ : st) {
    for (size_t off = 0; off < d.size(); off += 16384) std::memcpy(dst.data() + off, d.data() + off, 16384);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * static_cast<int64_t>(d.size()));
}
BENCHMARK(BM_ReceiveCopy16KiB)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
