// events/internal/chunk_codec.cc
#include "events/internal/chunk_codec.h"

#include <bit>
#include <cstring>

#include <fmt/core.h>

namespace hpf::events::internal {

namespace {
void StoreU32(uint8_t* at, uint32_t v) { std::memcpy(at, &v, sizeof v); }
void StoreU16(uint8_t* at, uint16_t v) { std::memcpy(at, &v, sizeof v); }
uint32_t LoadU32(const char* at) {
  uint32_t v;
  std::memcpy(&v, at, sizeof v);
  return v;
}
uint16_t LoadU16(const char* at) {
  uint16_t v;
  std::memcpy(&v, at, sizeof v);
  return v;
}
static_assert(std::endian::native == std::endian::little, "the chunk format is little-endian");
}  // namespace

ChunkWriter::ChunkWriter(std::string* out, size_t capacity_bytes) : out_(out) {
  HPF_ASSERT(out->empty());
  out->reserve(capacity_bytes);
  out->resize(kChunkHeaderBytes, '\0');
  auto* header = reinterpret_cast<uint8_t*>(out->data());
  StoreU32(header, kChunkMagic);
  StoreU16(header + 4, kChunkFormat);
}

std::span<uint8_t> ChunkWriter::AddRecord(std::span<const uint8_t> record, uint8_t** hash_slot) {
  const size_t entry_offset = out_->size();
  const size_t entry_bytes = ChunkEntryBytes(record.size());
  // Growing past the reservation would move entries the caller still holds pointers to.
  HPF_ASSERT(entry_offset + entry_bytes <= out_->capacity());
  out_->resize(entry_offset + entry_bytes, '\0');
  auto* entry = reinterpret_cast<uint8_t*>(out_->data()) + entry_offset;
  StoreU32(entry, static_cast<uint32_t>(record.size()));
  std::memcpy(entry + kChunkEntryHeaderBytes, record.data(), record.size());
  *hash_slot = entry + 8;
  ++count_;
  return {entry + kChunkEntryHeaderBytes, record.size()};
}

void ChunkWriter::Finish() { StoreU32(reinterpret_cast<uint8_t*>(out_->data()) + 8, count_); }

Result<uint32_t> ChunkRecordCount(std::string_view value) {
  if (value.size() < kChunkHeaderBytes) {
    return CorruptionError(
        fmt::format("chunk of {} bytes is shorter than its header", value.size()));
  }
  if (LoadU32(value.data()) != kChunkMagic) return CorruptionError("chunk has a bad magic number");
  const uint16_t format = LoadU16(value.data() + 4);
  if (format != kChunkFormat) {
    return CorruptionError(fmt::format("chunk format {} is not {}", format, kChunkFormat));
  }
  const uint32_t count = LoadU32(value.data() + 8);
  if (count == 0) return CorruptionError("chunk holds no records");
  return count;
}

Status ForEachChunkEntry(std::string_view value,
                         const std::function<bool(uint32_t, const ChunkEntry&)>& visit) {
  HPF_ASSIGN_OR_RETURN(const uint32_t count, ChunkRecordCount(value));
  size_t offset = kChunkHeaderBytes;
  for (uint32_t i = 0; i < count; ++i) {
    if (value.size() - offset < kChunkEntryHeaderBytes) {
      return CorruptionError(fmt::format("chunk entry {} is truncated", i));
    }
    const uint32_t size = LoadU32(value.data() + offset);
    if (value.size() - offset - kChunkEntryHeaderBytes < PaddedRecordBytes(size)) {
      return CorruptionError(fmt::format("chunk entry {} claims {} bytes past the end", i, size));
    }
    const auto* base = reinterpret_cast<const uint8_t*>(value.data()) + offset;
    const ChunkEntry entry{.hash = {base + 8, 32}, .record = {base + kChunkEntryHeaderBytes, size}};
    if (!visit(i, entry)) return Status::Ok();
    offset += ChunkEntryBytes(size);
  }
  if (offset != value.size()) {
    return CorruptionError(fmt::format("chunk has {} trailing bytes", value.size() - offset));
  }
  return Status::Ok();
}

std::string PositionKey(GlobalPosition position) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) {
    key[static_cast<size_t>(i)] = static_cast<char>((position.value >> (56 - 8 * i)) & 0xff);
  }
  return key;
}

Result<GlobalPosition> PositionFromKey(std::string_view key) {
  if (key.size() != 8) {
    return CorruptionError(fmt::format("log key of {} bytes is not a position", key.size()));
  }
  uint64_t value = 0;
  for (char c : key) value = (value << 8) | static_cast<uint8_t>(c);
  return GlobalPosition{value};
}

}  // namespace hpf::events::internal
