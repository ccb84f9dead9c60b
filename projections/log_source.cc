// projections/log_source.cc
#include "projections/log_source.h"

#include <fmt/core.h>

#include "events/limits.h"
#include "events/log_tailer.h"
#include "projections/internal/aligned_arena.h"

namespace hpf::projections {

namespace {

class LogReader final : public SourceReader {
 public:
  LogReader(const events::EventLog& log, events::GlobalPosition after)
      : log_(log), tailer_(log, after) {}

  Status Poll(size_t messages_max, std::chrono::milliseconds timeout,
              std::vector<SourceMessage>& out) override {
    HPF_ASSERT(messages_max > 0);
    // Two arenas in turn: the previous batch's bytes stay valid (source.h).
    internal::AlignedArena& arena = arenas_[turn_];
    turn_ = 1 - turn_;
    arena.Clear();
    copies_.clear();
    HPF_ASSIGN_OR_RETURN(
        const size_t visited,
        tailer_.Poll(
            std::min(messages_max, events::kReadRecordsMax), timeout,
            [&](const events::RecordRef& ref) {
              copies_.push_back({ref.position, arena.Append(ref.record), ref.record.size()});
              return true;
            }));
    HPF_ASSERT(copies_.size() == visited);
    // Spans only now: the arena may have moved while it grew.
    for (const Copy& copy : copies_) {
      out.push_back(SourceMessage{.partition = 0,
                                  .offset = static_cast<int64_t>(copy.position.value),
                                  .position = copy.position,
                                  .bytes = arena.At(copy.start, copy.size)});
    }
    return Status::Ok();
  }

  Assignment assignment() const override {
    const events::GlobalPosition head = log_.head().position;
    return Assignment{
        .generation = 1,
        .partitions = {PartitionProgress{.partition = 0,
                                         .begin_offset = 1,
                                         .next_offset = static_cast<int64_t>(tailer_.next().value),
                                         .end_offset = static_cast<int64_t>(head.value + 1)}}};
  }

  std::string offsets_scope() const override { return "log"; }

 private:
  const events::EventLog& log_;
  events::LogTailer tailer_;
  struct Copy {
    events::GlobalPosition position;
    size_t start = 0;
    size_t size = 0;
  };
  internal::AlignedArena arenas_[2];
  int turn_ = 0;
  std::vector<Copy> copies_;
};

// The position after which a tailer starting at `next_offset` reads.
Result<events::GlobalPosition> AfterPosition(const events::EventLog& log, int64_t next_offset) {
  if (next_offset == kOffsetBeginning) return events::GlobalPosition{0};
  if (next_offset == kOffsetEnd) return log.head().position;
  if (next_offset < 1) {
    return InvalidArgumentError(
        fmt::format("log offset {} is not a position (positions start at 1)", next_offset));
  }
  return events::GlobalPosition{static_cast<uint64_t>(next_offset) - 1};
}

}  // namespace

Result<std::unique_ptr<SourceReader>> LogSource::OpenMain(StartOffsetFn start) {
  HPF_ASSIGN_OR_RETURN(const events::GlobalPosition after,
                       AfterPosition(log_, start(0, "log").next_offset));
  return std::unique_ptr<SourceReader>(new LogReader(log_, after));
}

Result<std::unique_ptr<SourceReader>> LogSource::OpenCatchUp(
    std::span<const PartitionStart> starts) {
  if (starts.size() != 1 || starts[0].partition != 0) {
    return InvalidArgumentError("the log has exactly one partition, 0");
  }
  HPF_ASSIGN_OR_RETURN(const events::GlobalPosition after,
                       AfterPosition(log_, starts[0].next_offset));
  return std::unique_ptr<SourceReader>(new LogReader(log_, after));
}

}  // namespace hpf::projections
