// tests/fuzz/make_chunk_seeds.cc — writes the seed chunks of corpus/chunk_fuzz/.
//
// Usage: make_chunk_seeds OUT_DIR RECORD.hpfr...
//
// Builds chunks the way the log stores them: each record copied in with ChunkWriter, its link
// patched (gapless positions, commit times, the previous record's chain hash) and its SHA-256
// chain hash written beside it. It writes three chunks: the first record alone, the first
// three, and all of them. Run it on a few golden records (README.md here lists them) only
// when the chunk format changes; the committed seeds are its output.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "events/hash_chain.h"
#include "events/internal/chunk_codec.h"
#include "events/record.h"

namespace {

namespace events = ::hpf::events;
namespace internal = ::hpf::events::internal;

constexpr uint64_t kFirstPosition = 1'000'001;
constexpr int64_t kRecordedAtBaseUs = 1'666'224'000'000'000;  // 2022-10-20T00:00:00Z

std::vector<uint8_t> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Returns false (after saying why) if a record does not verify.
bool WriteChunk(const std::vector<std::vector<uint8_t>>& records, size_t count,
                const std::filesystem::path& out_path) {
  auto hasher = events::ChainHasher::Create(events::HashAlgorithm::kSha256);
  HPF_ASSERT(hasher.has_value());
  size_t capacity_bytes = internal::kChunkHeaderBytes;
  for (size_t i = 0; i < count; ++i) capacity_bytes += internal::ChunkEntryBytes(records[i].size());
  std::string chunk;
  internal::ChunkWriter writer(&chunk, capacity_bytes);
  events::Digest prev{};
  for (size_t i = 0; i < count; ++i) {
    uint8_t* hash_slot = nullptr;
    const std::span<uint8_t> bytes = writer.AddRecord(records[i], &hash_slot);
    const auto verified = events::VerifyRecord(bytes);
    if (!verified.has_value()) {
      std::fprintf(stderr, "record %zu: %s\n", i, verified.error().message().c_str());
      return false;
    }
    events::PatchLink(bytes, events::GlobalPosition{kFirstPosition + i},
                      kRecordedAtBaseUs + static_cast<int64_t>(i) * 1'000, prev);
    prev = (*hasher)->Link(prev, bytes);
    std::copy(prev.begin(), prev.end(), hash_slot);
  }
  writer.Finish();
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  return out.good();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: make_chunk_seeds OUT_DIR RECORD.hpfr... (at least three)\n");
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  std::vector<std::vector<uint8_t>> records;
  for (int i = 2; i < argc; ++i) records.push_back(ReadFile(argv[i]));
  std::filesystem::create_directories(out_dir);
  const bool ok = WriteChunk(records, 1, out_dir / "one_record.chunk") &&
                  WriteChunk(records, 3, out_dir / "three_records.chunk") &&
                  WriteChunk(records, records.size(), out_dir / "all_records.chunk");
  return ok ? 0 : 1;
}
