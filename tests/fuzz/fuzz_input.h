// tests/fuzz/fuzz_input.h — helpers shared by the libFuzzer targets in this folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string_view>

#include "events/assert.h"

namespace hpf::fuzz {

// libFuzzer's input buffer carries no alignment promise, but the decoders read FlatBuffers in
// place and REQUIRE 8-byte alignment, as RocksDB values get after the log's AlignedValue copy.
// This is a copy of exactly `size` bytes at an 8-byte-aligned address, so AddressSanitizer's
// redzone starts right after the last byte (a vector<uint64_t> would hide overreads into its
// padding).
class AlignedCopy {
 public:
  AlignedCopy(const uint8_t* data, size_t size)
      : bytes_(static_cast<uint8_t*>(::operator new(size == 0 ? 1 : size, kAlignment))),
        size_(size) {
    HPF_ASSERT(reinterpret_cast<uintptr_t>(bytes_) % 8 == 0);
    if (size != 0) std::memcpy(bytes_, data, size);
  }
  ~AlignedCopy() { ::operator delete(bytes_, kAlignment); }
  AlignedCopy(const AlignedCopy&) = delete;
  AlignedCopy& operator=(const AlignedCopy&) = delete;

  std::span<const uint8_t> bytes() const { return {bytes_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes_), size_}; }

 private:
  static constexpr std::align_val_t kAlignment{8};
  uint8_t* bytes_;
  size_t size_;
};

// Folds a value into a sink the optimiser cannot see through, so that reading a field is not
// optimised away (each read is what AddressSanitizer checks).
inline void Consume(uint64_t value) {
  static volatile uint64_t sink = 0;
  sink = sink + value;
}
inline void Consume(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) Consume(b);
}
inline void Consume(std::string_view text) {
  for (char c : text) Consume(static_cast<uint8_t>(c));
}

}  // namespace hpf::fuzz
