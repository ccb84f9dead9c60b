// events/internal/key_window.cc
#include "events/internal/key_window.h"

#include "events/assert.h"

namespace hpf::events::internal {

uint64_t KeyFingerprint(std::string_view key) {
  uint64_t h = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (char c : key) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;  // FNV prime
  }
  // MurmurHash3 fmix64: spreads FNV's weak low bits over the whole word.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

namespace {
constexpr size_t kInitialSlots = 1 << 16;
}

KeyWindow::KeyWindow() : slots_(kInitialSlots), mask_(kInitialSlots - 1) {}

void KeyWindow::Insert(uint64_t fingerprint, uint64_t position) {
  HPF_ASSERT(position != 0);
  HPF_ASSERT(fifo_.empty() || fifo_.back().position < position);
  if ((fifo_.size() + 1) * 2 > slots_.size()) Grow();  // load factor <= 1/2
  size_t i = Home(fingerprint);
  while (slots_[i].position != 0) i = (i + 1) & mask_;
  slots_[i] = Slot{fingerprint, position};
  fifo_.push_back(Slot{fingerprint, position});
}

void KeyWindow::Erase(uint64_t fingerprint, uint64_t position) {
  size_t i = Home(fingerprint);
  while (!(slots_[i].fingerprint == fingerprint && slots_[i].position == position)) {
    HPF_ASSERT(slots_[i].position != 0);  // the entry must be present
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: pull later entries of the probe run into the hole when their
  // home lies cyclically at or before it, so lookups never need tombstones.
  size_t hole = i;
  for (size_t j = (hole + 1) & mask_; slots_[j].position != 0; j = (j + 1) & mask_) {
    const size_t home = Home(slots_[j].fingerprint);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
}

void KeyWindow::EvictThrough(uint64_t position) {
  while (!fifo_.empty() && fifo_.front().position <= position) {
    Erase(fifo_.front().fingerprint, fifo_.front().position);
    fifo_.pop_front();
  }
}

void KeyWindow::ForgetAfter(uint64_t position) {
  while (!fifo_.empty() && fifo_.back().position > position) {
    Erase(fifo_.back().fingerprint, fifo_.back().position);
    fifo_.pop_back();
  }
}

void KeyWindow::Grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{});
  mask_ = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.position == 0) continue;
    size_t i = Home(slot.fingerprint);
    while (slots_[i].position != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
}

}  // namespace hpf::events::internal
