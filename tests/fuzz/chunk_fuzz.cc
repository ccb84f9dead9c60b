// tests/fuzz/chunk_fuzz.cc — libFuzzer target for the stored chunk format
// (events/internal/chunk_codec.h): ChunkRecordCount and ForEachChunkEntry on a RocksDB value,
// VerifyRecord on every record they yield, and PositionFromKey on a log key.
//
// Properties: no input crashes or reads outside itself; every entry lies inside the value,
// arrives in index order and starts 8-byte aligned (so VerifyRecord's alignment precondition
// holds for every record the log reads); a chunk that walks cleanly holds exactly the count
// its header claims; a key that decodes encodes back to itself.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/internal/chunk_codec.h"
#include "events/record.h"
#include "tests/fuzz/fuzz_input.h"

namespace hpf::fuzz {
namespace {

namespace internal = ::hpf::events::internal;

void FuzzChunk(std::string_view value) {
  const Result<uint32_t> count = internal::ChunkRecordCount(value);
  const auto* begin = reinterpret_cast<const uint8_t*>(value.data());
  const auto* end = begin + value.size();
  uint32_t visited = 0;
  const Status status =
      internal::ForEachChunkEntry(value, [&](uint32_t index, const internal::ChunkEntry& entry) {
        HPF_ASSERT(count.has_value());
        HPF_ASSERT(index == visited);
        HPF_ASSERT(entry.hash.size() == 32);
        HPF_ASSERT(entry.hash.data() >= begin);
        HPF_ASSERT(entry.hash.data() + entry.hash.size() <= entry.record.data());
        HPF_ASSERT(entry.record.data() + entry.record.size() <= end);
        HPF_ASSERT(reinterpret_cast<uintptr_t>(entry.record.data()) % 8 == 0);
        ++visited;
        Consume(entry.hash);
        const auto record = events::VerifyRecord(entry.record);
        if (record.has_value()) {
          Consume(events::RecordPosition(**record).value);
          Consume(events::CheckPostingsBalance(**record).message());
        }
        return true;
      });
  if (status.ok()) {
    HPF_ASSERT(count.has_value());
    HPF_ASSERT(visited == *count);
  }
}

void FuzzKey(std::string_view key) {
  const Result<events::GlobalPosition> position = internal::PositionFromKey(key);
  if (!position.has_value()) return;
  HPF_ASSERT(internal::PositionKey(*position) == key);
}

}  // namespace
}  // namespace hpf::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The log copies each value into 8-byte-aligned memory before decoding it; so does this.
  const hpf::fuzz::AlignedCopy input(data, size);
  hpf::fuzz::FuzzChunk(input.view());
  hpf::fuzz::FuzzKey(input.view().substr(0, 8));
  return 0;
}
