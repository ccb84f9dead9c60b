// events/log_tailer.cc
#include "events/log_tailer.h"

#include "events/limits.h"

namespace hpf::events {

Result<size_t> LogTailer::Poll(size_t max_records, std::chrono::milliseconds timeout,
                               const RecordVisitor& visit) {
  HPF_ASSERT(max_records > 0);
  HPF_ASSERT(max_records <= kReadRecordsMax);
  const GlobalPosition head = log_.WaitForPosition(next_, timeout);
  if (head < next_) return size_t{0};
  const GlobalPosition last{std::min(head.value, next_.value + max_records - 1)};
  size_t visited = 0;
  HPF_RETURN_IF_ERROR(log_.Scan(next_, last, [&](const RecordRef& ref) {
    HPF_ASSERT(ref.position == next_);  // positions are gapless
    ++visited;
    next_ = next_.next();
    return visit(ref);
  }));
  return visited;
}

}  // namespace hpf::events
