// projections/internal/aligned_arena.h — copies of records in 8-byte-aligned memory, reused
// from batch to batch.
//
// FlatBuffers needs a record 8-byte aligned before VerifyRecord, and the sources' bytes are
// either valid only during a visit (the log's Scan) or of unknown alignment (a Kafka payload).
// Records are appended while a batch is read; their spans are taken once the batch is complete
// (the buffer may move while it grows). Thread safety: none; one per reader.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace hpf::projections::internal {

class AlignedArena {
 public:
  // Forgets every copy; keeps the memory.
  void Clear() { used_words_ = 0; }

  // Copies `bytes` and returns where the copy starts, for At().
  size_t Append(std::span<const uint8_t> bytes) {
    const size_t start = used_words_;
    const size_t words = (bytes.size() + 7) / 8;
    if (used_words_ + words > words_.size()) {
      words_.resize(std::max(words_.size() * 2, used_words_ + words));
    }
    if (!bytes.empty()) std::memcpy(words_.data() + start, bytes.data(), bytes.size());
    used_words_ += words;
    return start;
  }

  // The copy made by Append() that returned `start`; valid until the next Append() or Clear().
  std::span<const uint8_t> At(size_t start, size_t size) const {
    return {reinterpret_cast<const uint8_t*>(words_.data() + start), size};
  }

 private:
  std::vector<uint64_t> words_;
  size_t used_words_ = 0;
};

}  // namespace hpf::projections::internal
