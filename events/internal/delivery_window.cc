// events/internal/delivery_window.cc
#include "events/internal/delivery_window.h"

#include <algorithm>

#include "events/assert.h"

namespace hpf::events::internal {

DeliveryWindow::DeliveryWindow(size_t capacity) : capacity_(capacity), delivered_(capacity, 0) {
  HPF_ASSERT(capacity > 0);
}

void DeliveryWindow::Reset(GlobalPosition published_through) {
  next_unconfirmed_ = published_through.value + 1;
  next_to_produce_ = next_unconfirmed_;
  std::fill(delivered_.begin(), delivered_.end(), uint8_t{0});
}

void DeliveryWindow::Produced(GlobalPosition position) {
  HPF_ASSERT(position.value == next_to_produce_);
  HPF_ASSERT(room() > 0);
  ++next_to_produce_;
}

bool DeliveryWindow::Delivered(GlobalPosition position) {
  HPF_ASSERT(position.value >= next_unconfirmed_);
  HPF_ASSERT(position.value < next_to_produce_);
  uint8_t& slot = delivered_[position.value % capacity_];
  HPF_ASSERT(slot == 0);
  slot = 1;
  const uint64_t before = next_unconfirmed_;
  while (next_unconfirmed_ < next_to_produce_ && delivered_[next_unconfirmed_ % capacity_] != 0) {
    delivered_[next_unconfirmed_ % capacity_] = 0;
    ++next_unconfirmed_;
  }
  return next_unconfirmed_ != before;
}

}  // namespace hpf::events::internal
