// projections/runtime.cc
#include "projections/runtime.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include <fmt/core.h>

#include "events/record.h"
#include "projections/limits.h"

namespace hpf::projections {

namespace {

using Clock = std::chrono::steady_clock;
using events::GlobalPosition;

uint64_t MicrosSince(Clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
}

// One registered projection, owned by the runner thread once taken in.
struct Slot {
  std::unique_ptr<Projection> projection;
  std::string name;
  Checkpoint checkpoint;  // as committed
  bool in_step = false;
  // Catching up: its own reader, opened for the main reader's assignment of this generation.
  std::unique_ptr<SourceReader> reader;
  uint64_t reader_generation = 0;
  ProjectionStats stats;
};

struct Request {
  enum class Kind : uint8_t { kAdd, kRebuild };
  Kind kind = Kind::kAdd;
  std::unique_ptr<Projection> projection;  // kAdd
  std::string name;
  std::promise<Status> done;
};

// Where a slot's checkpoint says to resume `partition`, within offsets of `scope`.
PartitionStart ResumeAt(const Checkpoint& checkpoint, int32_t partition, std::string_view scope) {
  const PartitionCheckpoint* entry = checkpoint.Find(partition);
  if (entry == nullptr || checkpoint.offsets_scope != scope || entry->next_offset < 0) {
    return PartitionStart{.partition = partition, .next_offset = kOffsetBeginning};
  }
  return PartitionStart{.partition = partition,
                        .next_offset = entry->next_offset,
                        .last_position = entry->offset_position};
}

const PartitionProgress* FindProgress(const Assignment& assignment, int32_t partition) {
  for (const auto& progress : assignment.partitions) {
    if (progress.partition == partition) return &progress;
  }
  return nullptr;
}

}  // namespace

struct Runner::Impl {
  RunnerOptions options;
  size_t batch_records_max = 0;

  // --- shared, under mutex ---
  mutable std::mutex mutex;
  mutable std::condition_variable changed;  // a commit, a reset, a state change
  RunnerState state = RunnerState::kNotStarted;
  Status error;
  std::deque<std::unique_ptr<Request>> requests;
  std::map<std::string, GlobalPosition, std::less<>> applied;  // registered names
  RunnerStats published;
  std::atomic<bool> stop{false};
  std::thread thread;

  // --- the runner thread's (or Start()'s before the thread exists) ---
  std::vector<std::unique_ptr<Slot>> slots;
  std::unique_ptr<SourceReader> main;
  uint64_t main_generation_seen = 0;
  std::vector<SourceMessage> messages;
  std::vector<SourcedRecord> records;
  std::vector<SourcedRecord> selected;
  std::vector<Checkpoint> pending;
  ProjectionStore::Batch batch;
  RunnerStats counters;                // state, error and projections unused
  uint64_t retired_offset_resets = 0;  // of catch-up readers closed since
  Clock::time_point rate_window_start = Clock::now();
  uint64_t rate_window_records = 0;

  Status TakeIn(std::unique_ptr<Projection> projection);
  Status Reset(Slot& slot);
  Status RebuildByName(std::string_view name);
  Status OpenMain();
  void ServeRequests();
  Status Round();
  Status MainRound(std::chrono::milliseconds timeout);
  Result<bool> CatchUpRound(Slot& slot);
  Status Verify();
  Status ApplyTo(std::span<Slot* const> group, std::string_view scope);
  Status EnsureEntries(const Assignment& assignment);
  bool ReadyToJoin(const Slot& slot) const;
  // Makes the slots' committed positions and the stats visible to other threads.
  void Publish();
  void Loop();
};

// ---------------------------------------------------------------------------------------------
// Taking projections in, resets

Status Runner::Impl::TakeIn(std::unique_ptr<Projection> projection) {
  auto slot = std::make_unique<Slot>();
  slot->name = std::string(projection->name());
  slot->projection = std::move(projection);
  slot->stats.name = slot->name;
  slot->stats.version = slot->projection->version();
  const ProjectionMeta wanted{.version = slot->projection->version(),
                              .source_id = options.source->id()};
  HPF_ASSIGN_OR_RETURN(const std::optional<ProjectionMeta> meta,
                       options.store->GetMeta(slot->name));
  if (!meta.has_value() || *meta != wanted) {
    // New, or stored by another version of the folding or fed by another source: from zero.
    HPF_RETURN_IF_ERROR(options.store->Reset(slot->name, wanted));
    if (meta.has_value()) ++slot->stats.rebuilds;
  }
  HPF_ASSIGN_OR_RETURN(slot->checkpoint, options.store->GetCheckpoint(slot->name));
  HPF_ASSIGN_OR_RETURN(const std::unique_ptr<ReadView> view, options.store->View(slot->name));
  HPF_RETURN_IF_ERROR(slot->projection->Load(*view));
  slots.push_back(std::move(slot));
  Publish();
  return Status::Ok();
}

Status Runner::Impl::Reset(Slot& slot) {
  HPF_RETURN_IF_ERROR(options.store->Reset(
      slot.name, {.version = slot.projection->version(), .source_id = options.source->id()}));
  slot.checkpoint = Checkpoint{};
  slot.in_step = false;
  if (slot.reader != nullptr) retired_offset_resets += slot.reader->assignment().offset_resets;
  slot.reader.reset();
  slot.reader_generation = 0;
  ++slot.stats.rebuilds;
  HPF_ASSIGN_OR_RETURN(const std::unique_ptr<ReadView> view, options.store->View(slot.name));
  HPF_RETURN_IF_ERROR(slot.projection->Load(*view));
  Publish();
  return Status::Ok();
}

Status Runner::Impl::RebuildByName(std::string_view name) {
  for (auto& slot : slots) {
    if (slot->name == name) return Reset(*slot);
  }
  return NotFoundError(fmt::format("no projection named '{}'", name));
}

Status Runner::Impl::OpenMain() {
  auto start = [this](int32_t partition, std::string_view scope) {
    // The lowest resume offset over the in-step projections; those further on skip what they
    // have. With none in step there is nothing to replay: start at the end.
    bool any = false;
    PartitionStart lowest{.partition = partition, .next_offset = kOffsetEnd};
    for (const auto& slot : slots) {
      if (!slot->in_step) continue;
      const PartitionStart resume = ResumeAt(slot->checkpoint, partition, scope);
      if (!any || resume.next_offset < lowest.next_offset) lowest = resume;
      any = true;
    }
    return lowest;
  };
  HPF_ASSIGN_OR_RETURN(main, options.source->OpenMain(start));
  return Status::Ok();
}

void Runner::Impl::ServeRequests() {
  std::deque<std::unique_ptr<Request>> taken;
  {
    std::lock_guard lock(mutex);
    taken.swap(requests);
  }
  for (auto& request : taken) {
    Status status;
    if (request->kind == Request::Kind::kAdd) {
      const std::string name(request->projection->name());
      status = TakeIn(std::move(request->projection));
      if (!status.ok()) {
        std::lock_guard lock(mutex);
        applied.erase(name);
      }
    } else {
      status = RebuildByName(request->name);
    }
    request->done.set_value(std::move(status));
  }
}

// ---------------------------------------------------------------------------------------------
// Rounds

Status Runner::Impl::Verify() {
  const auto start = Clock::now();
  records.resize(messages.size());
  for (size_t i = 0; i < messages.size(); ++i) {
    const SourceMessage& message = messages[i];
    auto record = events::VerifyRecord(message.bytes);
    if (!record.has_value()) {
      return CorruptionError(fmt::format("partition {} offset {}: {}", message.partition,
                                         message.offset, record.error().message()));
    }
    const GlobalPosition position = events::RecordPosition(**record);
    if (position != message.position || position.value == 0) {
      return CorruptionError(
          fmt::format("partition {} offset {}: framed as position {}, the record says {}",
                      message.partition, message.offset, message.position.value, position.value));
    }
    records[i] = SourcedRecord{.position = position, .record = *record, .bytes = message.bytes};
    counters.source_head = std::max(counters.source_head, position);
  }
  counters.verify_micros += MicrosSince(start);
  counters.records_read += messages.size();
  rate_window_records += messages.size();
  ++counters.batches;
  return Status::Ok();
}

// Applies `records` (verified `messages`) to every slot of `group`, skipping per slot what its
// checkpoint already covers, and commits all of it with the checkpoints in one batch.
Status Runner::Impl::ApplyTo(std::span<Slot* const> group, std::string_view scope) {
  pending.resize(group.size());
  for (size_t g = 0; g < group.size(); ++g) {
    Slot& slot = *group[g];
    Checkpoint& next = pending[g];
    next = slot.checkpoint;
    next.offsets_scope = std::string(scope);
    PartitionCheckpoint* entry = nullptr;
    selected.clear();
    bool skipped_any = false;
    uint64_t skipped = 0;
    for (size_t i = 0; i < records.size(); ++i) {
      const SourceMessage& message = messages[i];
      if (entry == nullptr || entry->partition != message.partition) {
        entry = &next.Upsert(message.partition);
      }
      if (message.offset + 1 > entry->next_offset) {
        entry->next_offset = message.offset + 1;
        entry->offset_position = records[i].position;
      }
      if (records[i].position <= entry->position) {
        // Already applied (a restart, a republished range, or this slot is ahead).
        if (!skipped_any)
          selected.assign(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(i));
        skipped_any = true;
        ++skipped;
        continue;
      }
      entry->position = records[i].position;
      if (skipped_any) selected.push_back(records[i]);
    }
    const std::span<const SourcedRecord> apply = skipped_any
                                                     ? std::span<const SourcedRecord>(selected)
                                                     : std::span<const SourcedRecord>(records);
    if (!apply.empty()) {
      const auto start = Clock::now();
      const Status applied_status = slot.projection->Apply(apply, batch.Writer(slot.name));
      counters.apply_micros += MicrosSince(start);
      if (!applied_status.ok()) {
        batch.Clear();
        return Status(applied_status.code(),
                      fmt::format("projection {} at positions {}..{}: {}", slot.name,
                                  apply.front().position.value, apply.back().position.value,
                                  applied_status.message()));
      }
      ++slot.stats.batches;
    }
    slot.stats.records_applied += apply.size();
    slot.stats.records_skipped += skipped;
    if (next != slot.checkpoint) batch.SetCheckpoint(slot.name, next);
  }
  if (!batch.empty()) {
    const auto start = Clock::now();
    HPF_RETURN_IF_ERROR(options.store->Commit(batch));
    counters.commit_micros += MicrosSince(start);
  }
  for (size_t g = 0; g < group.size(); ++g) group[g]->checkpoint = std::move(pending[g]);
  Publish();
  return Status::Ok();
}

// After the main reader's partitions changed: every projection gets an entry (position 0) for
// each partition it is now responsible for, so that its applied-through position counts them.
Status Runner::Impl::EnsureEntries(const Assignment& assignment) {
  for (auto& slot : slots) {
    Checkpoint next = slot->checkpoint;
    for (const auto& progress : assignment.partitions) next.Upsert(progress.partition);
    if (next != slot->checkpoint) {
      batch.SetCheckpoint(slot->name, next);
      slot->checkpoint = std::move(next);
    }
  }
  if (batch.empty()) return Status::Ok();
  HPF_RETURN_IF_ERROR(options.store->Commit(batch));
  Publish();
  return Status::Ok();
}

Status Runner::Impl::MainRound(std::chrono::milliseconds timeout) {
  messages.clear();
  const auto start = Clock::now();
  HPF_RETURN_IF_ERROR(main->Poll(batch_records_max, timeout, messages));
  counters.read_micros += MicrosSince(start);
  const Assignment assignment = main->assignment();
  const bool reassigned = assignment.generation != main_generation_seen;
  main_generation_seen = assignment.generation;
  if (!messages.empty()) {
    // Messages already polled came from partitions the reader had: apply them first.
    HPF_RETURN_IF_ERROR(Verify());
    std::vector<Slot*> group;
    for (auto& slot : slots) {
      if (slot->in_step) group.push_back(slot.get());
    }
    HPF_RETURN_IF_ERROR(ApplyTo(group, main->offsets_scope()));
  }
  if (reassigned) HPF_RETURN_IF_ERROR(EnsureEntries(assignment));
  return Status::Ok();
}

bool Runner::Impl::ReadyToJoin(const Slot& slot) const {
  const Assignment ours = main->assignment();
  if (ours.generation == 0) return false;
  const Assignment theirs = slot.reader->assignment();
  for (const auto& progress : ours.partitions) {
    const PartitionProgress* catching = FindProgress(theirs, progress.partition);
    if (catching == nullptr || catching->next_offset < progress.next_offset) return false;
  }
  return true;
}

// One batch for a projection that is catching up. Returns whether it read anything.
Result<bool> Runner::Impl::CatchUpRound(Slot& slot) {
  const Assignment assignment = main->assignment();
  if (assignment.generation == 0) return false;  // the main reader has no partitions yet
  const std::string scope = main->offsets_scope();
  if (slot.reader == nullptr || slot.reader_generation != assignment.generation) {
    if (slot.reader != nullptr) retired_offset_resets += slot.reader->assignment().offset_resets;
    std::vector<PartitionStart> starts;
    for (const auto& progress : assignment.partitions) {
      starts.push_back(ResumeAt(slot.checkpoint, progress.partition, scope));
    }
    HPF_ASSIGN_OR_RETURN(slot.reader, options.source->OpenCatchUp(starts));
    slot.reader_generation = assignment.generation;
  }
  messages.clear();
  const auto start = Clock::now();
  HPF_RETURN_IF_ERROR(slot.reader->Poll(batch_records_max, std::chrono::milliseconds(0), messages));
  counters.read_micros += MicrosSince(start);
  if (!messages.empty()) {
    HPF_RETURN_IF_ERROR(Verify());
    Slot* group[] = {&slot};
    HPF_RETURN_IF_ERROR(ApplyTo(group, slot.reader->offsets_scope()));
  }
  if (ReadyToJoin(slot)) {
    slot.in_step = true;
    retired_offset_resets += slot.reader->assignment().offset_resets;
    slot.reader.reset();
    slot.reader_generation = 0;
    Publish();
  }
  return !messages.empty();
}

Status Runner::Impl::Round() {
  ServeRequests();
  bool catching_up = false;
  bool caught_up_progress = false;
  for (auto& slot : slots) {
    if (slot->in_step) continue;
    catching_up = true;
    HPF_ASSIGN_OR_RETURN(const bool read, CatchUpRound(*slot));
    caught_up_progress = caught_up_progress || read;
  }
  // While a projection catches up, do not sleep in the main reader.
  const std::chrono::milliseconds timeout = caught_up_progress ? std::chrono::milliseconds(0)
                                            : catching_up      ? std::chrono::milliseconds(10)
                                                               : kIdlePollMax;
  HPF_RETURN_IF_ERROR(MainRound(timeout));
  Publish();
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Publishing what queries and stats see

void Runner::Impl::Publish() {
  const auto now = Clock::now();
  const double window_s = std::chrono::duration<double>(now - rate_window_start).count();
  if (window_s >= 1.0) {
    counters.records_per_s = static_cast<double>(rate_window_records) / window_s;
    rate_window_start = now;
    rate_window_records = 0;
  }
  RunnerStats stats = counters;
  Assignment assignment;
  stats.offset_resets = retired_offset_resets;
  for (const auto& slot : slots) {
    if (slot->reader != nullptr) stats.offset_resets += slot->reader->assignment().offset_resets;
  }
  if (main != nullptr) {
    assignment = main->assignment();
    stats.offset_resets += assignment.offset_resets;
    if (options.source->id() == "log") {
      for (const auto& progress : assignment.partitions) {
        stats.source_head = GlobalPosition{static_cast<uint64_t>(progress.end_offset - 1)};
      }
    }
  }
  const std::string scope = main != nullptr ? main->offsets_scope() : std::string();
  for (const auto& slot : slots) {
    ProjectionStats projection = slot->stats;
    projection.catching_up = !slot->in_step;
    projection.applied_through = slot->checkpoint.AppliedThrough();
    for (const auto& progress : assignment.partitions) {
      if (progress.end_offset < 0) continue;
      int64_t next = ResumeAt(slot->checkpoint, progress.partition, scope).next_offset;
      if (next < 0) next = progress.begin_offset;
      projection.lag_records +=
          static_cast<uint64_t>(std::max<int64_t>(0, progress.end_offset - next));
    }
    stats.projections.push_back(std::move(projection));
  }
  {
    std::lock_guard lock(mutex);
    for (const auto& slot : slots) applied[slot->name] = slot->checkpoint.AppliedThrough();
    stats.state = published.state;
    stats.error = published.error;
    published = std::move(stats);
  }
  changed.notify_all();
}

void Runner::Impl::Loop() {
  Status status;
  while (!stop.load(std::memory_order_relaxed)) {
    status = Round();
    if (!status.ok()) break;
  }
  Publish();
  std::deque<std::unique_ptr<Request>> unserved;
  {
    std::lock_guard lock(mutex);
    state = status.ok() ? RunnerState::kStopped : RunnerState::kFailed;
    error = status;
    published.state = state;
    published.error = status;
    unserved.swap(requests);
  }
  for (auto& request : unserved) {
    request->done.set_value(status.ok() ? UnavailableError("the projection runner stopped")
                                        : status);
  }
  changed.notify_all();
}

// ---------------------------------------------------------------------------------------------
// The public face

Runner::Runner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Runner::~Runner() { Stop().IgnoreError(); }  // The error was in stats() for whoever cared.

Result<std::unique_ptr<Runner>> Runner::Create(const RunnerOptions& options) {
  if (options.store == nullptr) return InvalidArgumentError("runner: no projection store");
  if (options.source == nullptr) return InvalidArgumentError("runner: no source");
  if (options.batch_records_max > kBatchRecordsMax) {
    return InvalidArgumentError(fmt::format("runner: batch_records_max {} is over {}",
                                            options.batch_records_max, kBatchRecordsMax));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->batch_records_max =
      options.batch_records_max == 0 ? kBatchRecordsDefault : options.batch_records_max;
  return std::unique_ptr<Runner>(new Runner(std::move(impl)));
}

Status Runner::Add(std::unique_ptr<Projection> projection) {
  if (projection == nullptr) return InvalidArgumentError("runner: null projection");
  const std::string name(projection->name());
  HPF_RETURN_IF_ERROR(ProjectionStore::CheckName(name));
  auto request = std::make_unique<Request>();
  request->kind = Request::Kind::kAdd;
  request->projection = std::move(projection);
  std::future<Status> done = request->done.get_future();
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->state == RunnerState::kStopped || impl_->state == RunnerState::kFailed) {
      return FailedPreconditionError("runner: stopped");
    }
    if (impl_->applied.contains(name)) {
      return InvalidArgumentError(
          fmt::format("runner: a projection named '{}' is registered", name));
    }
    if (impl_->applied.size() >= kProjectionsMax) {
      return InvalidArgumentError(fmt::format("runner: more than {} projections", kProjectionsMax));
    }
    impl_->applied.emplace(name, GlobalPosition{0});
    impl_->requests.push_back(std::move(request));
    if (impl_->state == RunnerState::kNotStarted) return Status::Ok();  // Start() takes it in
  }
  if (done.wait_for(kWaitForPositionMax) != std::future_status::ready) {
    return DeadlineExceededError(fmt::format("runner: projection {} not taken in within {} ms",
                                             name, kWaitForPositionMax.count()));
  }
  return done.get();
}

Status Runner::Start() {
  std::deque<std::unique_ptr<Request>> taken;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->state != RunnerState::kNotStarted) {
      return FailedPreconditionError("runner: started before");
    }
    taken.swap(impl_->requests);
  }
  // No thread yet: this thread is the runner's until it starts one.
  for (auto& request : taken) {
    Status status = request->kind == Request::Kind::kAdd
                        ? impl_->TakeIn(std::move(request->projection))
                        : impl_->RebuildByName(request->name);
    request->done.set_value(status);
    HPF_RETURN_IF_ERROR(status);
  }
  // In step: the projections that are furthest on; the others catch up with readers of their
  // own, so that the most current read models stay current.
  GlobalPosition furthest{0};
  for (const auto& slot : impl_->slots) {
    furthest = std::max(furthest, slot->checkpoint.AppliedThrough());
  }
  for (auto& slot : impl_->slots) slot->in_step = slot->checkpoint.AppliedThrough() == furthest;
  HPF_RETURN_IF_ERROR(impl_->OpenMain());
  impl_->Publish();
  {
    std::lock_guard lock(impl_->mutex);
    impl_->state = RunnerState::kRunning;
    impl_->published.state = RunnerState::kRunning;
  }
  impl_->thread = std::thread([this] { impl_->Loop(); });
  return Status::Ok();
}

Status Runner::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->state == RunnerState::kNotStarted) return Status::Ok();
  }
  impl_->stop.store(true, std::memory_order_relaxed);
  if (impl_->thread.joinable()) impl_->thread.join();
  std::lock_guard lock(impl_->mutex);
  return impl_->error;
}

Status Runner::Rebuild(std::string_view name) {
  auto request = std::make_unique<Request>();
  request->kind = Request::Kind::kRebuild;
  request->name = std::string(name);
  std::future<Status> done = request->done.get_future();
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->applied.contains(name)) {
      return NotFoundError(fmt::format("no projection named '{}'", name));
    }
    if (impl_->state == RunnerState::kStopped || impl_->state == RunnerState::kFailed) {
      return FailedPreconditionError("runner: stopped");
    }
    impl_->requests.push_back(std::move(request));
    if (impl_->state == RunnerState::kNotStarted) return Status::Ok();  // done by Start()
  }
  if (done.wait_for(kWaitForPositionMax) != std::future_status::ready) {
    return DeadlineExceededError(fmt::format("runner: rebuild of {} not started within {} ms", name,
                                             kWaitForPositionMax.count()));
  }
  return done.get();
}

Result<std::unique_ptr<ReadView>> Runner::View(std::string_view name) const {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->applied.contains(name)) {
      return NotFoundError(fmt::format("no projection named '{}'", name));
    }
  }
  return impl_->options.store->View(name);
}

Result<std::unique_ptr<ReadView>> Runner::WaitForPosition(std::string_view name,
                                                          GlobalPosition position,
                                                          std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + std::min(timeout, kWaitForPositionMax);
  std::unique_lock lock(impl_->mutex);
  while (true) {
    const auto it = impl_->applied.find(name);
    if (it == impl_->applied.end()) {
      return NotFoundError(fmt::format("no projection named '{}'", name));
    }
    if (it->second >= position) {
      lock.unlock();
      HPF_ASSIGN_OR_RETURN(std::unique_ptr<ReadView> view, impl_->options.store->View(name));
      if (view->position() >= position) return view;
      lock.lock();  // reset meanwhile (a rebuild): wait on
      continue;
    }
    if (impl_->state == RunnerState::kFailed) return impl_->error;
    if (impl_->state == RunnerState::kStopped) {
      return UnavailableError(
          fmt::format("projection {} is at {} and its runner is stopped", name, it->second.value));
    }
    if (impl_->changed.wait_until(lock, deadline) == std::cv_status::timeout &&
        Clock::now() >= deadline) {
      const auto now_at = impl_->applied.find(name);
      return DeadlineExceededError(
          fmt::format("projection {} has applied through position {}, not yet {}", name,
                      now_at == impl_->applied.end() ? 0 : now_at->second.value, position.value));
    }
  }
}

RunnerStats Runner::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->published;
}

}  // namespace hpf::projections
