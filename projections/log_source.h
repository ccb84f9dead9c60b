// projections/log_source.h — the event log as a projection source: one partition (0), in
// global order, through events::LogTailer.
//
// The main reader is a LogTailer from the in-step projections' checkpoint; each catch-up reader
// is another LogTailer from the lagging projection's own checkpoint, so a projection added
// later reads the log from position 1 while the others keep following the head. Offsets are
// positions (the next offset of a projection that applied position P is P + 1).
//
// Thread safety: as source.h; the log must outlive the source and its readers.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "events/event_log.h"
#include "projections/source.h"

namespace hpf::projections {

class LogSource final : public Source {
 public:
  explicit LogSource(const events::EventLog& log) : log_(log) {}

  std::string id() const override { return "log"; }
  Result<std::unique_ptr<SourceReader>> OpenMain(StartOffsetFn start) override;
  Result<std::unique_ptr<SourceReader>> OpenCatchUp(
      std::span<const PartitionStart> starts) override;

 private:
  const events::EventLog& log_;
};

}  // namespace hpf::projections
