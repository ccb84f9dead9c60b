// events/internal/delivery_window.h — which produced positions have been delivered, and the
// gap-free delivered prefix that the publisher's cursor may advance to.
//
// Delivery reports arrive in order per partition but in any order across partitions, so the
// cursor ("published through N") moves only over a prefix with no undelivered position in it.
// The window holds at most `capacity` positions between that prefix and the next position to
// produce. Thread safety: none; the publisher's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "events/types.h"

namespace hpf::events::internal {

class DeliveryWindow {
 public:
  // REQUIRES: capacity > 0.
  explicit DeliveryWindow(size_t capacity);

  // Forgets everything in flight: the next position to produce is published_through + 1.
  void Reset(GlobalPosition published_through);

  // Every position at or below this one was delivered.
  GlobalPosition published_through() const { return GlobalPosition{next_unconfirmed_ - 1}; }
  // The next position to produce.
  GlobalPosition next() const { return GlobalPosition{next_to_produce_}; }
  // Positions produced and not yet part of the delivered prefix.
  size_t outstanding() const { return static_cast<size_t>(next_to_produce_ - next_unconfirmed_); }
  size_t room() const { return capacity_ - outstanding(); }

  // REQUIRES: position == next() and room() > 0.
  void Produced(GlobalPosition position);
  // Marks a produced position delivered. Returns true if published_through() advanced.
  // REQUIRES: published_through() < position < next(), not marked before since Reset().
  bool Delivered(GlobalPosition position);

 private:
  size_t capacity_;
  uint64_t next_unconfirmed_ = 1;  // published_through + 1
  uint64_t next_to_produce_ = 1;
  std::vector<uint8_t> delivered_;  // by position % capacity_, for the outstanding positions
};

}  // namespace hpf::events::internal
