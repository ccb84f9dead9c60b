// events/internal/key_window.h — recent idempotency keys in memory: fingerprint -> positions.
//
// A linear-probing hash table (backward-shift deletion, no tombstones) plus a FIFO of the
// inserted entries in position order, so the oldest entries can be evicted once the persistent
// index holds them. Several entries may share a fingerprint (a 64-bit collision); callers
// confirm a hit by reading the record. Thread safety: owned by the log's writer thread.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <vector>

namespace hpf::events::internal {

// The 64-bit fingerprint of an idempotency key: FNV-1a then the MurmurHash3 finaliser.
// Part of the store format (the persistent index is keyed by it): never change it.
uint64_t KeyFingerprint(std::string_view key);

class KeyWindow {
 public:
  KeyWindow();

  // Calls visit(position) for every entry with this fingerprint.
  template <typename Visit>
  void ForEach(uint64_t fingerprint, Visit&& visit) const {
    for (size_t i = Home(fingerprint);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.position == 0) return;
      if (slot.fingerprint == fingerprint) visit(slot.position);
    }
  }

  // Starts loading the fingerprint's home slot into cache: the table is far larger than the
  // cache, so a group prefetches all its keys before looking any up.
  void Prefetch(uint64_t fingerprint) const { __builtin_prefetch(&slots_[Home(fingerprint)]); }

  // REQUIRES: position > every position inserted before (positions only grow).
  void Insert(uint64_t fingerprint, uint64_t position);

  // Removes every entry whose position <= `position`.
  void EvictThrough(uint64_t position);

  // Removes every entry whose position > `position` (a group that failed to commit).
  void ForgetAfter(uint64_t position);

  size_t size() const { return fifo_.size(); }
  uint64_t oldest_position() const { return fifo_.empty() ? 0 : fifo_.front().position; }

 private:
  struct Slot {
    uint64_t fingerprint = 0;
    uint64_t position = 0;  // 0 marks an empty slot (positions start at 1)
  };
  size_t Home(uint64_t fingerprint) const { return static_cast<size_t>(fingerprint) & mask_; }
  void Erase(uint64_t fingerprint, uint64_t position);
  void Grow();

  std::vector<Slot> slots_;
  size_t mask_;
  std::deque<Slot> fifo_;  // entries in insertion (= position) order
};

}  // namespace hpf::events::internal
