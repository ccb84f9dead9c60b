// events/clock.h — time enters the log through this seam (STYLE 1.2), so tests can fix it.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <cstdint>

namespace hpf::events {

class Clock {
 public:
  virtual ~Clock() = default;
  // UTC microseconds since the Unix epoch.
  virtual int64_t NowMicros() const = 0;
};

// The wall clock. The process-wide instance lives forever.
class SystemClock final : public Clock {
 public:
  static const SystemClock& Default();
  int64_t NowMicros() const override;
};

}  // namespace hpf::events
