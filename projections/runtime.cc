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
#include <time.h>
#include <utility>

#include <fmt/core.h>

#include "events/record.h"
#include "projections/limits.h"

namespace hpf::projections {

namespace {

using Clock = std::chrono::steady_clock;
using events::GlobalPosition;

// CPU time of the calling thread: what each step costs, whatever else runs on the machine.
uint64_t ThreadCpuMicros() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
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
  size_t worker = 0;            // the apply worker it is pinned to
  int full_batches_in_row = 0;  // of its catch-up reader
  // Since the last rebalancing: CPU in Apply() and bytes written (written by its worker).
  uint64_t window_apply_micros = 0;
  uint64_t window_bytes = 0;
  // Written by its worker while it applies a batch; taken as `checkpoint` once committed.
  Checkpoint pending;
  bool committed = false;
  ProjectionStats stats;
};

struct Request {
  enum class Kind : uint8_t { kAdd, kRebuild };
  Kind kind = Kind::kAdd;
  std::unique_ptr<Projection> projection;  // kAdd
  std::string name;
  std::promise<Status> done;
};

// Commits skip the write-ahead log once a reader has delivered this many full batches in a row:
// the projection is far behind (a rebuild, a long catch-up), where a crash costs only a re-read
// and the log's copy of every byte costs a third of a commit. Back at the head, the first
// logged commit flushes what was written unlogged.
constexpr int kUnloggedAfterFullBatches = 2;

ProjectionStore::WalUse WalFor(int& full_in_row, size_t messages, size_t batch_max) {
  full_in_row = messages >= batch_max ? full_in_row + 1 : 0;
  return full_in_row >= kUnloggedAfterFullBatches ? ProjectionStore::WalUse::kUnlogged
                                                  : ProjectionStore::WalUse::kLogged;
}

// The projections are spread over the apply threads again after this many batches, if that
// shortens the busiest thread's share by a tenth: projections differ in cost by 30 times (a
// trial balance against an audit trail), and which are heavy is only known by running them.
constexpr int kRebalanceEveryBatches = 16;
constexpr double kRebalanceGainMin = 0.9;

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

// One apply worker: a thread that runs tasks in order. Each projection is pinned to one worker
// for its life, and its Load() and Apply() run there only (projection.h: one thread).
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  std::future<Status> Run(std::function<Status()> task) {
    std::packaged_task<Status()> packaged(std::move(task));
    std::future<Status> done = packaged.get_future();
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(packaged));
    }
    wake_.notify_one();
    return done;
  }

 private:
  void Loop() {
    while (true) {  // until the destructor
      std::packaged_task<Status()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return done_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<Status()>> tasks_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

// What one worker uses while it applies a batch to its projections.
struct WorkerState {
  ProjectionStore::Batch batch;
  std::vector<SourcedRecord> selected;
  uint64_t apply_micros = 0;   // CPU
  uint64_t commit_micros = 0;  // CPU
  // Since the last rebalancing.
  uint64_t window_commit_micros = 0;
  uint64_t window_bytes = 0;
};

// One batch as read: messages, their verified records, the offsets' scope.
struct ReadBatch {
  std::vector<SourceMessage> messages;
  std::vector<SourcedRecord> records;
  std::string scope;
  // Unlogged while the reader keeps delivering full batches (projection_store.h WalUse).
  ProjectionStore::WalUse wal = ProjectionStore::WalUse::kLogged;
  void Clear() {
    messages.clear();
    records.clear();
  }
};

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
  std::unique_ptr<SourceReader> main;  // after `slots`: its StartOffsetFn reads them
  uint64_t main_generation_seen = 0;
  int main_full_batches_in_row = 0;
  ReadBatch read_batches[2];  // the batch being applied and the one read meanwhile
  ReadBatch catch_up_batch;
  ProjectionStore::Batch batch;  // the runner thread's own writes (EnsureEntries)
  std::vector<std::unique_ptr<WorkerState>> worker_states;
  std::vector<std::unique_ptr<Worker>> workers;  // after `slots` and states: joined first
  RunnerStats counters;                          // state, error and projections unused
  uint64_t retired_offset_resets = 0;            // of catch-up readers closed since
  Clock::time_point rate_window_start = Clock::now();
  uint64_t rate_window_records = 0;

  Status TakeIn(std::unique_ptr<Projection> projection);
  Status Reset(Slot& slot);
  Status RebuildByName(std::string_view name);
  Status OpenMain();
  void ServeRequests();
  Status Round();
  Status MainRound(std::chrono::milliseconds timeout);
  Status ReadMain(ReadBatch& into, std::chrono::milliseconds timeout);
  Result<bool> CatchUpRound(Slot& slot);
  Status Verify(ReadBatch& batch);
  // Starts applying `in` to `group` on the workers; Finish() waits for them.
  std::vector<std::future<Status>> Dispatch(std::span<Slot* const> group, const ReadBatch& in);
  Status Finish(std::span<Slot* const> group, std::vector<std::future<Status>>& running);
  Status ApplyOnWorker(size_t worker, std::span<Slot* const> group, const ReadBatch& in);
  Status OnWorker(const Slot& slot, std::function<Status()> task);
  // Between batches, with no worker busy: moves projections between workers (see above).
  void MaybeRebalance();
  int batches_since_rebalance = 0;
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
  slot->worker = slots.size() % workers.size();
  Projection& taken = *slot->projection;
  HPF_RETURN_IF_ERROR(OnWorker(*slot, [&] { return taken.Load(*view); }));
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
  Projection& projection = *slot.projection;
  HPF_RETURN_IF_ERROR(OnWorker(slot, [&] { return projection.Load(*view); }));
  Publish();
  return Status::Ok();
}

Status Runner::Impl::OnWorker(const Slot& slot, std::function<Status()> task) {
  return workers[slot.worker]->Run(std::move(task)).get();
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

Status Runner::Impl::Verify(ReadBatch& batch_read) {
  const uint64_t start = ThreadCpuMicros();
  const std::vector<SourceMessage>& messages = batch_read.messages;
  std::vector<SourcedRecord>& records = batch_read.records;
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
  counters.verify_micros += ThreadCpuMicros() - start;
  counters.records_read += messages.size();
  rate_window_records += messages.size();
  ++counters.batches;
  return Status::Ok();
}

std::vector<std::future<Status>> Runner::Impl::Dispatch(std::span<Slot* const> group,
                                                        const ReadBatch& in) {
  std::vector<std::future<Status>> running;
  for (size_t w = 0; w < workers.size(); ++w) {
    bool any = false;
    for (const Slot* slot : group) any = any || slot->worker == w;
    if (!any) continue;
    running.push_back(
        workers[w]->Run([this, w, group, &in] { return ApplyOnWorker(w, group, in); }));
  }
  return running;
}

Status Runner::Impl::Finish(std::span<Slot* const> group,
                            std::vector<std::future<Status>>& running) {
  Status first_error;
  for (auto& done : running) {
    Status status = done.get();
    if (first_error.ok() && !status.ok()) first_error = std::move(status);
  }
  running.clear();
  // Each worker committed its own projections' writes with their checkpoints: a projection
  // whose worker failed keeps its old checkpoint (and is reloaded at the next start).
  for (Slot* slot : group) {
    if (slot->committed) slot->checkpoint = std::move(slot->pending);
    slot->committed = false;
  }
  for (auto& work : worker_states) {
    counters.apply_micros += std::exchange(work->apply_micros, 0);
    counters.commit_micros += std::exchange(work->commit_micros, 0);
  }
  Publish();
  return first_error;
}

// On worker `w`: applies `in` to its projections of `group`, skipping per projection what its
// checkpoint already covers, and commits their writes with their checkpoints in one batch.
Status Runner::Impl::ApplyOnWorker(size_t w, std::span<Slot* const> group, const ReadBatch& in) {
  WorkerState& work = *worker_states[w];
  const std::vector<SourceMessage>& messages = in.messages;
  const std::vector<SourcedRecord>& records = in.records;
  std::vector<Slot*> mine;
  for (Slot* slot : group) {
    if (slot->worker != w) continue;
    mine.push_back(slot);
    Checkpoint& next = slot->pending;
    next = slot->checkpoint;
    next.offsets_scope = in.scope;
    PartitionCheckpoint* entry = nullptr;
    std::vector<SourcedRecord>& selected = work.selected;
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
        if (!skipped_any) {
          selected.assign(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(i));
        }
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
      const uint64_t start = ThreadCpuMicros();
      const size_t bytes_before = work.batch.bytes();
      const Status status = slot->projection->Apply(apply, work.batch.Writer(slot->name));
      const uint64_t micros = ThreadCpuMicros() - start;
      work.apply_micros += micros;
      slot->stats.apply_micros += micros;
      slot->window_apply_micros += micros;
      slot->window_bytes += work.batch.bytes() - bytes_before;
      work.window_bytes += work.batch.bytes() - bytes_before;
      if (!status.ok()) {
        work.batch.Clear();
        return Status(status.code(), fmt::format("projection {} at positions {}..{}: {}",
                                                 slot->name, apply.front().position.value,
                                                 apply.back().position.value, status.message()));
      }
      ++slot->stats.batches;
    }
    slot->stats.records_applied += apply.size();
    slot->stats.records_skipped += skipped;
    if (next != slot->checkpoint) work.batch.SetCheckpoint(slot->name, next);
  }
  if (!work.batch.empty()) {
    const uint64_t start = ThreadCpuMicros();
    HPF_RETURN_IF_ERROR(options.store->Commit(work.batch, in.wal));
    work.commit_micros += ThreadCpuMicros() - start;
    work.window_commit_micros += ThreadCpuMicros() - start;
  }
  for (Slot* slot : mine) slot->committed = true;
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

Status Runner::Impl::ReadMain(ReadBatch& into, std::chrono::milliseconds timeout) {
  into.Clear();
  const uint64_t start = ThreadCpuMicros();
  HPF_RETURN_IF_ERROR(main->Poll(batch_records_max, timeout, into.messages));
  counters.read_micros += ThreadCpuMicros() - start;
  into.scope = main->offsets_scope();
  into.wal = WalFor(main_full_batches_in_row, into.messages.size(), batch_records_max);
  if (into.messages.empty()) return Status::Ok();
  return Verify(into);
}

// Reads from the main reader and applies to the in-step projections. While a batch is being
// applied, the next one is read and verified (if the source had a full batch ready), so that
// reading and applying run side by side; the last batch is committed before it returns.
Status Runner::Impl::MainRound(std::chrono::milliseconds timeout) {
  ReadBatch* current = &read_batches[0];
  ReadBatch* next = &read_batches[1];
  HPF_RETURN_IF_ERROR(ReadMain(*current, timeout));
  std::vector<Slot*> group;
  for (auto& slot : slots) {
    if (slot->in_step) group.push_back(slot.get());
  }
  // Bounded, so that requests and catching-up projections get their turn.
  constexpr int kReadAheadBatchesMax = 64;
  for (int batches = 0; !current->messages.empty(); ++batches) {
    std::vector<std::future<Status>> running = Dispatch(group, *current);
    const bool more = current->messages.size() >= batch_records_max &&
                      batches + 1 < kReadAheadBatchesMax && !stop.load(std::memory_order_relaxed);
    const Status read_ahead =
        more ? ReadMain(*next, std::chrono::milliseconds(0)) : (next->Clear(), Status::Ok());
    HPF_RETURN_IF_ERROR(Finish(group, running));
    HPF_RETURN_IF_ERROR(read_ahead);
    MaybeRebalance();
    current->Clear();
    std::swap(current, next);
  }
  const Assignment assignment = main->assignment();
  if (assignment.generation != main_generation_seen) {
    // Messages already polled came from partitions the reader had: applied above.
    main_generation_seen = assignment.generation;
    HPF_RETURN_IF_ERROR(EnsureEntries(assignment));
  }
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
  ReadBatch& in = catch_up_batch;
  in.Clear();
  const uint64_t start = ThreadCpuMicros();
  HPF_RETURN_IF_ERROR(
      slot.reader->Poll(batch_records_max, std::chrono::milliseconds(0), in.messages));
  counters.read_micros += ThreadCpuMicros() - start;
  in.scope = slot.reader->offsets_scope();
  in.wal = WalFor(slot.full_batches_in_row, in.messages.size(), batch_records_max);
  const bool read = !in.messages.empty();
  if (read) {
    HPF_RETURN_IF_ERROR(Verify(in));
    Slot* group[] = {&slot};
    std::vector<std::future<Status>> running = Dispatch(group, in);
    HPF_RETURN_IF_ERROR(Finish(group, running));
    MaybeRebalance();
  }
  if (ReadyToJoin(slot)) {
    slot.in_step = true;
    retired_offset_resets += slot.reader->assignment().offset_resets;
    slot.reader.reset();
    slot.reader_generation = 0;
    Publish();
  }
  return read;
}

void Runner::Impl::MaybeRebalance() {
  if (workers.size() < 2 || ++batches_since_rebalance < kRebalanceEveryBatches) return;
  batches_since_rebalance = 0;
  // A projection's cost: its Apply() CPU, plus its bytes' share of its worker's commit CPU.
  std::vector<std::pair<double, Slot*>> costs;
  std::vector<double> now(workers.size(), 0);
  for (auto& slot : slots) {
    const WorkerState& work = *worker_states[slot->worker];
    const double per_byte = work.window_bytes == 0
                                ? 0
                                : static_cast<double>(work.window_commit_micros) /
                                      static_cast<double>(work.window_bytes);
    const double cost = static_cast<double>(slot->window_apply_micros) +
                        per_byte * static_cast<double>(slot->window_bytes);
    costs.emplace_back(cost, slot.get());
    now[slot->worker] += cost;
    slot->window_apply_micros = 0;
    slot->window_bytes = 0;
  }
  for (auto& work : worker_states) {
    work->window_commit_micros = 0;
    work->window_bytes = 0;
  }
  // Longest first, each to the least loaded worker.
  std::stable_sort(costs.begin(), costs.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<double> planned(workers.size(), 0);
  std::vector<size_t> assignment;
  for (const auto& [cost, slot] : costs) {
    const size_t w =
        static_cast<size_t>(std::min_element(planned.begin(), planned.end()) - planned.begin());
    planned[w] += cost;
    assignment.push_back(w);
  }
  const double busiest_now = *std::max_element(now.begin(), now.end());
  const double busiest_planned = *std::max_element(planned.begin(), planned.end());
  if (busiest_now <= 0 || busiest_planned > busiest_now * kRebalanceGainMin) return;
  // No worker is busy here, and a hand-over through the worker queue orders everything the old
  // thread did before anything the new one does.
  for (size_t i = 0; i < costs.size(); ++i) costs[i].second->worker = assignment[i];
  ++counters.rebalances;
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
    projection.apply_thread = slot->worker;
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
  // What was committed without the write-ahead log becomes durable on the way out.
  const Status flushed = options.store->FlushUnlogged();
  if (status.ok()) status = flushed;
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
  if (options.apply_threads > kApplyThreadsMax) {
    return InvalidArgumentError(fmt::format("runner: apply_threads {} is over {}",
                                            options.apply_threads, kApplyThreadsMax));
  }
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->batch_records_max =
      options.batch_records_max == 0 ? kBatchRecordsDefault : options.batch_records_max;
  const size_t threads = options.apply_threads == 0 ? kApplyThreadsDefault : options.apply_threads;
  for (size_t i = 0; i < threads; ++i) {
    impl->worker_states.push_back(std::make_unique<WorkerState>());
    impl->workers.push_back(std::make_unique<Worker>());
  }
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
