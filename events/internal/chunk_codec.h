// events/internal/chunk_codec.h — the stored form of a run of records (one RocksDB value).
//
// On-disk format v1 (little-endian), a part of the store format (store_layout.h):
//   header  (16 bytes): magic "HPFC" | u16 format (1) | u16 reserved (0) | u32 count | u32 0
//   entries (count times, each starting 8-byte aligned):
//           u32 record size | u32 reserved (0) | 32-byte chain hash | record bytes | zero pad
// The key of a chunk is the big-endian position of its first record, so chunks sort by
// position. Record bytes start 8-byte aligned when the value is, as FlatBuffers expects.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "events/status.h"
#include "events/types.h"

namespace hpf::events::internal {

inline constexpr uint32_t kChunkMagic = 0x43465048;  // "HPFC" read as little-endian u32
inline constexpr uint16_t kChunkFormat = 1;
inline constexpr size_t kChunkHeaderBytes = 16;
inline constexpr size_t kChunkEntryHeaderBytes = 40;
static_assert(kChunkHeaderBytes % 8 == 0);
static_assert(kChunkEntryHeaderBytes % 8 == 0);

constexpr size_t PaddedRecordBytes(size_t size) { return (size + 7) & ~size_t{7}; }
constexpr size_t ChunkEntryBytes(size_t record_size) {
  return kChunkEntryHeaderBytes + PaddedRecordBytes(record_size);
}

// Builds a chunk in a caller-owned string whose capacity was reserved up front, so entries
// never move while the caller patches and hashes them.
class ChunkWriter {
 public:
  // REQUIRES: out is empty; `capacity_bytes` >= header + all entries to be added.
  ChunkWriter(std::string* out, size_t capacity_bytes);
  // Copies a record in and returns where its bytes (and hash slot) now live.
  std::span<uint8_t> AddRecord(std::span<const uint8_t> record, uint8_t** hash_slot);
  uint32_t count() const { return count_; }
  // Writes the count into the header.
  void Finish();

 private:
  std::string* out_;
  uint32_t count_ = 0;
};

// One entry of a decoded chunk; spans point into the chunk value.
struct ChunkEntry {
  std::span<const uint8_t> hash;    // 32 bytes
  std::span<const uint8_t> record;  // record bytes (8-byte aligned if the value is)
};

// Walks the entries of a chunk value; stops early when `visit` returns false. Corruption
// (with the entry index) if the structure is damaged; record bytes are NOT verified here.
Status ForEachChunkEntry(std::string_view value,
                         const std::function<bool(uint32_t index, const ChunkEntry&)>& visit);

// Number of records a chunk claims to hold (header only). Corruption if the header is bad.
Result<uint32_t> ChunkRecordCount(std::string_view value);

// Big-endian 8-byte key for a position, and its inverse.
std::string PositionKey(GlobalPosition position);
Result<GlobalPosition> PositionFromKey(std::string_view key);

}  // namespace hpf::events::internal
