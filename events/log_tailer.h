// events/log_tailer.h — follows the committed log in position order, waking on append.
//
// The source projections and the Kafka publisher read from: it never sees an uncommitted
// record (principle 5). Thread safety: one tailer per consumer thread; many tailers may follow
// one log.
#pragma once

#include <chrono>

#include "events/event_log.h"

namespace hpf::events {

class LogTailer {
 public:
  // Starts after `after` (0 = from the first record). `log` must outlive the tailer.
  LogTailer(const EventLog& log, GlobalPosition after) : log_(log), next_(after.next()) {}

  // Waits up to `timeout` for records past the cursor, then visits at most `max_records` of
  // them in order and advances the cursor past those visited. Returns how many were visited
  // (0 on timeout).
  Result<size_t> Poll(size_t max_records, std::chrono::milliseconds timeout,
                      const RecordVisitor& visit);

  // The next position the tailer will read.
  GlobalPosition next() const { return next_; }

 private:
  const EventLog& log_;
  GlobalPosition next_;
};

}  // namespace hpf::events
