// ledger/sequencer.cc
//
// Bookkeeping, all on the sequencer's thread:
// - `building` is the group being decided; `in_flight` the groups handed to the log, oldest
//   first. Groups have sequence numbers from 1 and complete strictly in order.
// - A Slot holds one command's answer: final at decision time (rejection, duplicate found in
//   the log, failure), or a PositionCell that its group fills in when durable (an accepted
//   command, or a duplicate of an accepted command still in flight).
// - A Submission is answered once group `wait_for` is durable: the newest group holding an
//   accepted command when its last command was decided, since every answer may depend on
//   any of them. Submissions are decided in order, so `wait_for` never decreases and
//   `waiting` is answered front to back.
// - After the first failed group (`failed_seq`), the answers of every command decided while
//   that group or a later one was being built become kFailed; earlier answers stand.
#include "ledger/sequencer.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <fmt/core.h>

#include "events/hash_chain.h"
#include "events/record.h"
#include "ledger/calendar.h"
#include "ledger/decide.h"
#include "ledger/internal/command_hash.h"
#include "ledger/internal/state_codec.h"
#include "ledger/postings.h"
#include "ledger/record_encoding.h"

namespace hpf::ledger {

namespace {

using events::GlobalPosition;

// A group is closed once it holds group_records_max records; its last command may add up to
// kCommandRecordsMax - 1 more, which must still fit one AppendBatch.
constexpr size_t kGroupRecordsDefault = events::kBatchRecordsMax - events::kCommandRecordsMax;
static_assert(events::kCommandRecordsMax < events::kBatchRecordsMax, "a group holds a command");
// Every record changes at most three stored entries (a reversal: its position, an account
// and the account's employer; an opening: the account, its employer and the fund).
static_assert(3 * events::kBatchRecordsMax <= events::kStateDeltaEntriesMax,
              "a group's state delta fits one AppendBatch");
// The actor and the channel travel in every record's envelope; the log bounds records, and
// these keep a command's records far below that bound whatever the body holds.
constexpr size_t kActorBytesMax = 128;
static_assert(kActorBytesMax <= internal::kApplicantBytesMax, "an applicant is an actor");
constexpr size_t kChannelBytesMax = 64;
// A pipeline deeper than this only queues in the log (events::kQueuedBatchesMax).
constexpr size_t kGroupsInFlightLimit = 64;

// The first record's position of an accepted command, once its group is durable.
struct PositionCell {
  std::optional<GlobalPosition> position;
};

struct Slot {
  std::optional<CommandResult> result;  // final at decision time
  std::shared_ptr<const PositionCell> cell;
  bool duplicate = false;   // with `cell`: a duplicate of a command still in flight
  uint64_t decided_in = 0;  // the group being built when it was decided
};

struct Submission {
  std::vector<Command> commands;
  // Each command's content hash (internal/command_hash.h), computed by Submit() on the
  // caller's thread: a pure function of the command, kept off the sequencer's one thread.
  std::vector<events::Digest> hashes;
  std::vector<Slot> slots;
  size_t next = 0;  // the next command to decide
  uint64_t wait_for = 0;
  bool all_or_none = false;  // Atomicity::kAllOrNone: decided by DecideAtomic()
  // The log's answers for the keys, fetched together (Impl::PrefetchKeys), valid for one
  // epoch.
  std::vector<std::optional<events::EventLog::KeyHit>> log_hits;
  std::vector<bool> log_hits_valid;
  uint64_t log_hits_epoch = 0;
  std::promise<std::vector<CommandResult>> done;
};

// The stored entities some facts change: what a group's state delta writes.
struct Touched {
  std::set<EmployerId> employers;
  std::set<AccountId> accounts;
  std::set<uint64_t> withdrawals;
  std::set<uint64_t> reversed_positions;
  // The policy in force changed. (Its new rate table re-rates accounts in memory; their
  // stored values are re-rated when loaded, internal/state_codec.h, so they are not written.)
  bool policy = false;
  bool fund = false;

  void Merge(const Touched& other) {
    employers.insert(other.employers.begin(), other.employers.end());
    accounts.insert(other.accounts.begin(), other.accounts.end());
    withdrawals.insert(other.withdrawals.begin(), other.withdrawals.end());
    reversed_positions.insert(other.reversed_positions.begin(), other.reversed_positions.end());
    policy = policy || other.policy;
    fund = fund || other.fund;
  }
};

struct Group {
  uint64_t seq = 0;
  events::AppendBatch batch;
  std::vector<std::shared_ptr<PositionCell>> cells;  // one per command of the batch
  std::vector<std::string> keys;                     // idempotency keys it put in flight
  Touched touched;
  PolicyInForce policy;  // version 0 unless the group changes the policy: then the last one
#ifndef NDEBUG
  // An all-or-none list's side group: the postings of its facts, for the trial balance once
  // the list is merged.
  std::vector<Posting> unposted;
#endif
};

struct InflightKey {
  events::Digest command_hash;
  std::shared_ptr<PositionCell> cell;
};

struct Completion {
  uint64_t seq;
  Result<events::AppendResult> result;
};

using SharedAppend = std::shared_future<Result<events::AppendResult>>;

// Every stored entity a fact may change: exactly what Evolve() touches. A new fact fails to
// compile here until its entities are named.
template <typename F>
void Touch(const F& f, Touched& touched) {
  if constexpr (std::is_same_v<F, EmployerRegistered> ||
                std::is_same_v<F, EmployerRateReductionGranted> ||
                std::is_same_v<F, EmployerDeferralGranted> ||
                std::is_same_v<F, BankReceiptRecorded> || std::is_same_v<F, RemittanceOpened>) {
    touched.employers.insert(f.terms.employer);
  } else if constexpr (std::is_same_v<F, EmployerRatesChanged> ||
                       std::is_same_v<F, EmployerSealed> || std::is_same_v<F, EmployerClosed> ||
                       std::is_same_v<F, EmployerReopened> ||
                       std::is_same_v<F, RemittanceCompleted>) {
    touched.employers.insert(f.employer);
  } else if constexpr (std::is_same_v<F, AccountOpened>) {
    touched.accounts.insert(f.terms.account);
    touched.employers.insert(f.terms.employer);  // its normal_accounts
    touched.fund = true;                         // the accounts its year has to settle
  } else if constexpr (std::is_same_v<F, AccountSealed> || std::is_same_v<F, AccountUnsealed> ||
                       std::is_same_v<F, AccountClosed> ||
                       std::is_same_v<F, ContributionAllocated>) {
    touched.accounts.insert(f.account);
    touched.employers.insert(f.employer);  // normal_accounts; suspense and remittance
    if constexpr (std::is_same_v<F, AccountClosed>) touched.fund = true;
  } else if constexpr (std::is_same_v<F, AccountBaseChanged> || std::is_same_v<F, AccountFrozen> ||
                       std::is_same_v<F, AccountUnfrozen> ||
                       std::is_same_v<F, YearEndInterestCredited>) {
    touched.accounts.insert(f.account);
    if constexpr (std::is_same_v<F, YearEndInterestCredited>) touched.fund = true;
  } else if constexpr (std::is_same_v<F, YearEndSettlementStarted> ||
                       std::is_same_v<F, YearEndSettlementCompleted>) {
    touched.fund = true;
  } else if constexpr (std::is_same_v<F, WithdrawalApplied>) {
    touched.withdrawals.insert(f.terms.withdrawal_id);
    touched.accounts.insert(f.terms.account);  // its withdrawal in flight
  } else if constexpr (std::is_same_v<F, WithdrawalApproved>) {
    touched.withdrawals.insert(f.withdrawal_id);
  } else if constexpr (std::is_same_v<F, WithdrawalRejected> ||
                       std::is_same_v<F, WithdrawalCancelled> ||
                       std::is_same_v<F, WithdrawalPaid>) {
    touched.withdrawals.insert(f.withdrawal_id);
    touched.accounts.insert(f.account);  // in flight no more; the payment's balance
  } else if constexpr (std::is_same_v<F, InterestToDateCredited>) {
    touched.accounts.insert(f.account);
    touched.fund = true;  // a payment after the open year's end carries the account on
  } else if constexpr (std::is_same_v<F, RecordReversed>) {
    touched.reversed_positions.insert(f.terms.position);
    HPF_ASSERT(f.terms.target != nullptr);
    HPF_ASSERT(f.terms.target->original.has_value());
    // Undoing the original changes what the original changed.
    std::visit([&touched](const auto& original) { Touch(original, touched); },
               *f.terms.target->original);
  } else if constexpr (std::is_same_v<F, PolicyChanged>) {
    touched.policy = true;
  } else {
    static_assert(sizeof(F) == 0, "name the entities the new fact changes");
  }
}

void Touch(const Fact& fact, Touched& touched) {
  std::visit([&touched](const auto& f) { Touch(f, touched); }, fact);
}

// The touched entities as they were, to put back if a command cannot be appended after all.
struct Backup {
  std::map<EmployerId, std::optional<EmployerState>> employers;
  std::map<AccountId, std::optional<AccountState>> accounts;
  std::map<uint64_t, std::optional<WithdrawalState>> withdrawals;
  std::map<uint64_t, bool> reversed_positions;
  std::optional<PolicyInForce> policy;
  std::optional<FundState> fund;

  Backup(const State& state, const Touched& touched) {
    if (touched.policy) policy = state.policy;
    if (touched.fund) fund = state.fund;
    for (const EmployerId id : touched.employers) {
      const EmployerState* employer = state.employer(id);
      employers.emplace(id, employer == nullptr ? std::nullopt : std::optional(*employer));
    }
    for (const AccountId id : touched.accounts) {
      const AccountState* account = state.account(id);
      accounts.emplace(id, account == nullptr ? std::nullopt : std::optional(*account));
    }
    for (const uint64_t id : touched.withdrawals) {
      const WithdrawalState* withdrawal = state.withdrawal(id);
      withdrawals.emplace(id, withdrawal == nullptr ? std::nullopt : std::optional(*withdrawal));
    }
    for (const uint64_t position : touched.reversed_positions) {
      reversed_positions.emplace(position, state.reversed_positions.contains(position));
    }
  }

  void Restore(State& state) const {
    if (fund.has_value()) state.fund = *fund;
    for (const auto& [id, employer] : employers) {
      state.employers.erase(id);
      if (employer.has_value()) state.employers.emplace(id, *employer);
    }
    for (const auto& [id, account] : accounts) {
      state.accounts.erase(id);
      if (account.has_value()) state.accounts.emplace(id, *account);
    }
    for (const auto& [id, withdrawal] : withdrawals) {
      state.withdrawals.erase(id);
      if (withdrawal.has_value()) state.withdrawals.emplace(id, *withdrawal);
    }
    for (const auto& [position, present] : reversed_positions) {
      if (present) {
        state.reversed_positions.insert(position);
      } else {
        state.reversed_positions.erase(position);
      }
    }
    if (policy.has_value()) {
      state.policy = *policy;
      // Back to the old rate table: exact, as the change's own re-rating was (no money moved).
      if (state.policy.book != nullptr) {
        const Status rerated = RerateAccounts(state, state.policy.book->personal_rate_table());
        HPF_ASSERT(rerated.ok());
      }
    }
  }
};

CommandResult Reject(Rejection rejection, std::string message) {
  return CommandRejected{RejectionDetail{rejection, std::move(message)}};
}

// Records live in 8-byte words so that every copy is aligned as VerifyRecord requires.
std::vector<uint64_t> AlignedCopy(std::span<const uint8_t> bytes) {
  std::vector<uint64_t> words((bytes.size() + 7) / 8, 0);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

}  // namespace

struct Sequencer::Impl {
  // --- fixed after Open ---
  events::EventLog* log = nullptr;
  const PolicyBook* initial_policy = nullptr;  // decides the genesis only (sequencer.h)
  size_t groups_in_flight_max = 0;
  size_t group_records_max = 0;

  // --- shared between threads, under mutex ---
  std::mutex mutex;
  std::condition_variable work_cv;    // the sequencer's thread waits for work
  std::condition_variable space_cv;   // Submit() waits for queue room
  std::condition_variable waiter_cv;  // the waiter waits for appends to wait on
  std::deque<std::unique_ptr<Submission>> submitted;
  size_t queued_commands = 0;  // submitted and not yet decided
  std::deque<Completion> completions;
  std::vector<std::promise<State>> snapshot_requests;
  std::deque<std::pair<uint64_t, SharedAppend>> to_wait;
  bool stopping = false;
  bool waiter_stopping = false;
  Status health;  // the failure that stopped the sequencer, for health() and Close()
  // The policy of the durable log, for policy() and policy_version().
  std::shared_ptr<const PolicyBook> durable_policy;
  uint32_t durable_policy_version = 0;

  std::mutex close_mutex;  // serialises Close()
  bool closed = false;     // under close_mutex
  std::thread thread;
  std::thread waiter;

  // --- the sequencer's thread only ---
  State state;
  // Debug and sanitizer builds check the double entry after every group (issue #3): the book
  // of everything posted since open nets to zero, and its 201 / 219 movements equal the
  // movements of the accounts' balances and the employers' suspense.
  TrialBalance book;
  Fen opening_balances;
  Fen opening_suspense;
  events::RecordBuilder builder;
  std::deque<std::unique_ptr<Submission>> intake;   // taken from `submitted`, being decided
  std::deque<std::unique_ptr<Submission>> waiting;  // decided, waiting for durability
  std::unique_ptr<Group> building;
  std::deque<std::unique_ptr<Group>> in_flight;
  std::unordered_map<std::string, InflightKey> inflight_keys;
  uint64_t last_nonempty = 0;    // the newest group holding an accepted command
  uint64_t prefetch_epoch = 0;   // PrefetchKeys() calls so far
  uint64_t durable_through = 0;  // every group up to this one is durable
  Status failed;                 // the first failure; OK while none
  uint64_t failed_seq = 0;       // the group that failed first
  bool failure_answered = false;
  // The all-or-none list at the front of the intake did not fit beside the group being
  // built: nothing more joins that group, which is sent as soon as the pipeline has room.
  bool list_waits_for_group = false;

  // The book decisions use: the one the log recorded last (once the genesis is decided, always).
  const PolicyBook& Book() const {
    return state.policy.book != nullptr ? *state.policy.book : *initial_policy;
  }

  void PublishPolicy(const PolicyInForce& policy) {
    HPF_ASSERT(policy.book != nullptr);
    std::lock_guard lock(mutex);
    durable_policy = policy.book;
    durable_policy_version = policy.version;
  }

  // ------------------------------------------------------------------ the threads
  void Run() {
    // Runs until Close(): each turn takes what arrived — completed appends, snapshot requests,
    // submissions — then decides as much as the current group may hold and hands the group
    // to the log when the pipeline has room.
    while (true) {
      std::deque<Completion> done;
      std::vector<std::promise<State>> snapshots;
      {
        std::unique_lock lock(mutex);
        work_cv.wait(lock, [&] { return HasWork(); });
        if (Drained()) break;
        done.swap(completions);
        snapshots.swap(snapshot_requests);
        while (!submitted.empty()) {
          intake.push_back(std::move(submitted.front()));
          submitted.pop_front();
        }
      }
      for (Completion& completion : done) OnCompletion(completion);
      for (std::promise<State>& snapshot : snapshots) snapshot.set_value(state);
      DecideIntake();
      if (CanSend()) Send();
    }
    HPF_ASSERT(waiting.empty());
    {
      std::lock_guard lock(mutex);
      waiter_stopping = true;
    }
    waiter_cv.notify_one();
  }

  void WaitLoop() {
    // Runs until the sequencer's thread has stopped: waits for each append in order and
    // hands its result back.
    while (true) {
      std::pair<uint64_t, SharedAppend> item;
      {
        std::unique_lock lock(mutex);
        waiter_cv.wait(lock, [&] { return waiter_stopping || !to_wait.empty(); });
        if (to_wait.empty()) return;
        item = std::move(to_wait.front());
        to_wait.pop_front();
      }
      item.second.wait();
      {
        std::lock_guard lock(mutex);
        completions.push_back(Completion{item.first, item.second.get()});
      }
      work_cv.notify_one();
    }
  }

  // Under mutex (the thread-only fields read here are written only by the caller's thread).
  bool HasWork() const {
    return !completions.empty() || !snapshot_requests.empty() ||
           ((!submitted.empty() || !intake.empty()) && CanDecide()) || CanSend() || Drained();
  }
  bool Drained() const {
    return stopping && submitted.empty() && intake.empty() && in_flight.empty() &&
           (building->cells.empty() || !failed.ok());
  }
  bool CanDecide() const {
    return !failed.ok() || (building->batch.record_count() < group_records_max &&
                            !(list_waits_for_group && !building->cells.empty()));
  }
  bool CanSend() const {
    return failed.ok() && !building->cells.empty() && in_flight.size() < groups_in_flight_max;
  }

  // ------------------------------------------------------------------ deciding
  // Looks up, with one index read, the keys of up to kPrefetchKeysMax commands about to be
  // decided. Valid only until the next completion: a key leaves inflight_keys when its group
  // is durable, and only then may the log's answer for it change — which is why this runs
  // at the start of each DecideIntake(), and completions are taken only between them.
  void PrefetchKeys() {
    constexpr size_t kPrefetchKeysMax = 4096;
    ++prefetch_epoch;
    std::vector<std::string_view> keys;
    std::vector<std::pair<Submission*, size_t>> owners;
    for (auto& submission : intake) {
      submission->log_hits.resize(submission->commands.size());
      submission->log_hits_epoch = prefetch_epoch;
      submission->log_hits_valid.assign(submission->commands.size(), false);
      for (size_t i = submission->next;
           i < submission->commands.size() && keys.size() < kPrefetchKeysMax; ++i) {
        const std::string& key = submission->commands[i].header.idempotency_key;
        if (key.empty() || key.size() > events::kIdempotencyKeyBytesMax) continue;
        keys.push_back(key);
        owners.emplace_back(submission.get(), i);
      }
      if (keys.size() >= kPrefetchKeysMax) break;
    }
    if (keys.empty()) return;
    auto hits = log->FindKeys(keys);
    if (!hits.has_value()) return;  // Decide1 asks again, one key at a time, and reports it
    for (size_t k = 0; k < keys.size(); ++k) {
      auto [submission, index] = owners[k];
      submission->log_hits[index] = (*hits)[k];
      submission->log_hits_valid[index] = true;
    }
  }

  void DecideIntake() {
    size_t decided = 0;
    PrefetchKeys();
    while (!intake.empty()) {
      Submission& submission = *intake.front();
      if (submission.all_or_none && submission.next == 0) {
        // Never sent in parts: the list joins the group being built whole, or waits for the
        // next one (DecideAtomic).
        if (!CanDecide()) {
          if (!CanSend()) break;
          Send();
        }
        if (!DecideAtomic(submission)) {
          list_waits_for_group = true;
          if (!CanSend()) break;  // decided again on the next group
          Send();
          const bool fitted = DecideAtomic(submission);
          HPF_ASSERT(fitted);  // an empty group holds any list Accept() did not refuse
        }
        list_waits_for_group = false;
        submission.next = submission.commands.size();
        decided += submission.commands.size();
      }
      while (submission.next < submission.commands.size()) {
        if (!CanDecide()) {
          if (!CanSend()) break;  // the pipeline is full: wait for a completion
          Send();
        }
        const size_t i = submission.next;
        const bool prefetched =
            submission.log_hits_epoch == prefetch_epoch && submission.log_hits_valid[i];
        Decide1(submission.commands[i], submission.hashes[i], submission.slots[i],
                prefetched ? &submission.log_hits[i] : nullptr, *building, nullptr);
        ++submission.next;
        ++decided;
      }
      if (submission.next < submission.commands.size()) break;
      submission.wait_for = last_nonempty;
      waiting.push_back(std::move(intake.front()));
      intake.pop_front();
      // An idle log gets a decided submission at once rather than after the whole backlog;
      // while groups are in flight, the next one grows with what arrives meanwhile.
      if (CanSend() && in_flight.empty()) Send();
    }
    if (decided > 0) {
      {
        std::lock_guard lock(mutex);
        queued_commands -= decided;
      }
      space_cv.notify_all();
    }
    AnswerReady();
  }

  // Decides an all-or-none list (sequencer.h) as one unit, in order, into a side group. If
  // every command is accepted or a duplicate, the side group joins the group being built and
  // the list's records are appended in one AppendBatch at consecutive positions. Otherwise the
  // per-command backups are restored in reverse order, the list's keys leave inflight_keys,
  // and the command that stopped it keeps its own answer while every other one is answered
  // kAtomicListAborted (or, after a failure, CommandFailed): nothing was appended. Returns
  // false, with nothing changed and nothing answered, if the list's records do not fit beside
  // the group being built: that group must be sent first (Send() writes the entities it
  // touched as they are, so a list must never be decided on top of a group not yet sent that
  // it may not join).
  bool DecideAtomic(Submission& submission) {
    const size_t count = submission.commands.size();
    if (count > events::kBatchRecordsMax) {
      for (Slot& slot : submission.slots) {
        slot = Slot{.decided_in = building->seq};
        slot.result = Reject(Rejection::kAtomicListTooLarge,
                             fmt::format("the all-or-none list has {} commands, each of at least "
                                         "one record, and one append holds at most {} records; "
                                         "submit it in smaller parts",
                                         count, events::kBatchRecordsMax));
      }
      return true;
    }
    Group side;
    side.seq = building->seq;
    std::vector<Backup> backups;
    std::optional<size_t> stopped;  // the command that was neither accepted nor a duplicate
    for (size_t i = 0; i < count && !stopped.has_value(); ++i) {
      Slot& slot = submission.slots[i];
      slot = Slot{};
      const bool prefetched =
          submission.log_hits_epoch == prefetch_epoch && submission.log_hits_valid[i];
      Decide1(submission.commands[i], submission.hashes[i], slot,
              prefetched ? &submission.log_hits[i] : nullptr, side, &backups);
      if (slot.result.has_value() && (std::holds_alternative<CommandRejected>(*slot.result) ||
                                      std::holds_alternative<CommandFailed>(*slot.result))) {
        stopped = i;
      }
    }
    const bool fits =
        building->cells.empty() ||
        building->batch.record_count() + side.batch.record_count() <= events::kBatchRecordsMax;
    if (stopped.has_value() || !fits) {
      for (size_t k = backups.size(); k-- > 0;) backups[k].Restore(state);
      for (const std::string& key : side.keys) inflight_keys.erase(key);
    }
    if (!fits && !stopped.has_value()) {
      for (Slot& slot : submission.slots) slot = Slot{};
      return false;
    }
    if (stopped.has_value()) {
      const size_t failed_at = *stopped;
      const CommandResult& cause = *submission.slots[failed_at].result;
      for (size_t i = 0; i < count; ++i) {
        if (i == failed_at) continue;
        Slot& slot = submission.slots[i];
        slot = Slot{.decided_in = building->seq};
        if (const auto* failure = std::get_if<CommandFailed>(&cause)) {
          slot.result = CommandFailed{
              Status(failure->status.code(),
                     fmt::format("command {} of the all-or-none list failed ({}); nothing of "
                                 "the list was appended",
                                 failed_at, failure->status.message()))};
        } else {
          const RejectionDetail& detail = std::get<CommandRejected>(cause).detail;
          slot.result = Reject(Rejection::kAtomicListAborted,
                               fmt::format("command {} of the all-or-none list was rejected "
                                           "({}); nothing of the list was appended",
                                           failed_at, RejectionCode(detail.rejection)));
        }
      }
      return true;
    }
    for (size_t c = 0; c < side.batch.command_count(); ++c) {
      const size_t first = side.batch.command_first_record(c);
      std::vector<std::span<const uint8_t>> records;
      for (size_t r = 0; r < side.batch.command_record_count(c); ++r) {
        records.push_back(side.batch.record(first + r));
      }
      const Status added = building->batch.AddCommand(records);
      HPF_ASSERT(added.ok());  // the side batch took the same records, and they fit
    }
    building->cells.insert(building->cells.end(), side.cells.begin(), side.cells.end());
    building->keys.insert(building->keys.end(), side.keys.begin(), side.keys.end());
    building->touched.Merge(side.touched);
    if (side.policy.version != 0) building->policy = side.policy;
#ifndef NDEBUG
    book.Post(side.unposted);
#endif
    if (!side.cells.empty()) last_nonempty = building->seq;
    return true;
  }

  // `log_hit`: the log's answer for the key from PrefetchKeys(), if it has one. An accepted
  // command's records go to `into` (the group being built, or an all-or-none list's side
  // group); with `backups`, the accepted command's Backup is kept there.
  void Decide1(const Command& command, const events::Digest& hash, Slot& slot,
               const std::optional<events::EventLog::KeyHit>* log_hit, Group& into,
               std::vector<Backup>* backups) {
    slot.decided_in = building->seq;
    if (!failed.ok()) {
      slot.result = CommandFailed{failed};
      return;
    }
    const CommandHeader& header = command.header;
    const std::string& key = header.idempotency_key;
    // The log's limit on keys: such a key cannot be in the log, so it is checked first.
    if (key.size() > events::kIdempotencyKeyBytesMax) {
      slot.result = Reject(Rejection::kTextFieldInvalid,
                           fmt::format("idempotency key is {} bytes, at most {}", key.size(),
                                       events::kIdempotencyKeyBytesMax));
      return;
    }
    if (!key.empty()) {
      if (auto it = inflight_keys.find(key); it != inflight_keys.end()) {
        if (it->second.command_hash == hash) {
          slot.cell = it->second.cell;
          slot.duplicate = true;
        } else {
          slot.result = Conflict(key, std::nullopt);
        }
        return;
      }
      Result<std::optional<events::EventLog::KeyHit>> hit =
          log_hit != nullptr ? Result<std::optional<events::EventLog::KeyHit>>(*log_hit)
                             : log->FindKey(key);
      if (!hit.has_value()) {
        slot.result = CommandFailed{std::move(hit).error()};
        return;
      }
      if (hit->has_value()) {
        const events::EventLog::KeyHit& earlier = **hit;
        slot.result = earlier.command_hash == hash
                          ? CommandResult{CommandDuplicate{earlier.position}}
                          : Conflict(key, earlier.position);
        return;
      }
    }
    if (header.actor.size() > kActorBytesMax || header.channel.size() > kChannelBytesMax) {
      slot.result = Reject(Rejection::kTextFieldInvalid,
                           fmt::format("actor ({} bytes) and channel ({} bytes) may hold at most "
                                       "{} and {} bytes",
                                       header.actor.size(), header.channel.size(), kActorBytesMax,
                                       kChannelBytesMax));
      return;
    }
    // A reversal is decided on the record it names, read here so Decide() stays pure.
    std::optional<Command> resolved;
    if (const auto* reversal = std::get_if<ReverseRecord>(&command.body)) {
      auto target = ReadTarget(reversal->position);
      if (!target.has_value()) {
        slot.result = CommandFailed{std::move(target).error()};
        return;
      }
      resolved = command;
      std::get<ReverseRecord>(resolved->body).target = std::move(target).value();
    }
    const Command& decided = resolved.has_value() ? *resolved : command;
    Decision decision = Decide(state, decided, Book());
    if (!decision.accepted()) {
      slot.result = CommandRejected{std::move(*decision.rejection)};
      return;
    }
    Accept(decided, hash, decision.facts, slot, into, backups);
  }

  // The committed record at `position` as a reversal sees it; null if there is none (0, or
  // beyond the head: a record still in flight is not yet known to any client).
  Result<std::shared_ptr<const ReversalTarget>> ReadTarget(uint64_t position) const {
    std::shared_ptr<const ReversalTarget> target;
    if (position == 0 || position > log->head().position.value) return target;
    Status inner;
    HPF_RETURN_IF_ERROR(log->Scan(
        GlobalPosition{position}, GlobalPosition{position}, [&](const events::RecordRef& ref) {
          auto record = events::VerifyRecord(ref.record);
          if (!record.has_value()) {
            inner = record.error();
            return false;
          }
          events::Digest hash{};
          HPF_ASSERT(ref.hash.size() == hash.size());
          std::memcpy(hash.data(), ref.hash.data(), hash.size());
          auto read = ReadReversalTarget(**record, hash);
          if (!read.has_value()) {
            inner = read.error();
            return false;
          }
          target = std::make_shared<const ReversalTarget>(std::move(read).value());
          return false;
        }));
    HPF_RETURN_IF_ERROR(inner);
    if (target == nullptr) {
      return CorruptionError(
          fmt::format("the log has no record at position {} below its head", position));
    }
    return target;
  }

  static CommandResult Conflict(std::string_view key, std::optional<GlobalPosition> position) {
    return Reject(Rejection::kIdempotencyConflict,
                  position.has_value()
                      ? fmt::format("idempotency key '{}' was used at position {} by a different "
                                    "command; a new command needs a new key",
                                    key, position->value)
                      : fmt::format("idempotency key '{}' was used by a different command; a new "
                                    "command needs a new key",
                                    key));
  }

  // The version a stream has before a command: 0 for an entity the command creates.
  uint64_t VersionBefore(const StreamRef& stream) const {
    switch (stream.kind) {
      case schema::EntityKind::Employer: {
        const EmployerState* employer = state.employer(EmployerId{stream.id});
        return employer == nullptr ? 0 : employer->version;
      }
      case schema::EntityKind::Account: {
        const AccountState* account = state.account(AccountId{stream.id});
        return account == nullptr ? 0 : account->version;
      }
      case schema::EntityKind::Withdrawal: {
        const WithdrawalState* withdrawal = state.withdrawal(stream.id);
        return withdrawal == nullptr ? 0 : withdrawal->version;
      }
      default:
        return VersionOf(stream);  // the policy's and the fund's streams always exist
    }
  }

  // The version a stream has now.
  uint64_t VersionOf(const StreamRef& stream) const {
    if (stream.kind == schema::EntityKind::Policy) return state.policy.version;
    if (stream.kind == schema::EntityKind::Employer) {
      const EmployerState* employer = state.employer(EmployerId{stream.id});
      HPF_ASSERT(employer != nullptr);
      return employer->version;
    }
    if (stream.kind == schema::EntityKind::Fund) {
      HPF_ASSERT(stream.id == kFundStreamId);
      return state.fund.version;
    }
    if (stream.kind == schema::EntityKind::Withdrawal) {
      const WithdrawalState* withdrawal = state.withdrawal(stream.id);
      HPF_ASSERT(withdrawal != nullptr);
      return withdrawal->version;
    }
    HPF_ASSERT(stream.kind == schema::EntityKind::Account);  // the only other stream so far
    const AccountState* account = state.account(AccountId{stream.id});
    HPF_ASSERT(account != nullptr);
    return account->version;
  }

  // Encodes the facts with their streams' versions after each, adds them to `into`, then
  // applies them. Should the batch refuse the records (a field Decide() did not bound), the
  // command fails alone before anything changed. Only a side group can
  // run out of room (the group being built closes kCommandRecordsMax below the batch's
  // bound): the command is then rejected kAtomicListTooLarge, nothing changed.
  void Accept(const Command& command, const events::Digest& hash, const std::vector<Fact>& facts,
              Slot& slot, Group& into, std::vector<Backup>* backups) {
    HPF_ASSERT(!facts.empty());
    HPF_ASSERT(facts.size() <= events::kCommandRecordsMax);
    if (into.batch.record_count() + facts.size() > events::kBatchRecordsMax) {
      HPF_ASSERT(&into != building.get());
      slot.result =
          Reject(Rejection::kAtomicListTooLarge,
                 fmt::format("the all-or-none list's records would exceed {}, the most "
                             "one append holds: {} before this command, which adds {}; "
                             "submit the list in smaller parts",
                             events::kBatchRecordsMax, into.batch.record_count(), facts.size()));
      return;
    }
    const auto date = Date::FromYyyymmdd(command.header.effective_date);
    HPF_ASSERT(date.has_value());  // Decide() accepted it
    const auto parts = static_cast<uint16_t>(facts.size());
    // The records are encoded and added before anything changes, so a refused command leaves
    // the state as it was without a copy of it: each fact adds one to its stream's version,
    // as Evolve() does (checked below in debug builds).
    std::vector<uint64_t> versions(facts.size());
    if (facts.size() == 1) {
      versions[0] = VersionBefore(StreamOf(facts[0])) + 1;
    } else {
      std::map<std::pair<schema::EntityKind, uint64_t>, uint64_t> streams;
      for (size_t i = 0; i < facts.size(); ++i) {
        const StreamRef stream = StreamOf(facts[i]);
        auto [it, inserted] = streams.try_emplace({stream.kind, stream.id}, 0);
        if (inserted) it->second = VersionBefore(stream);
        versions[i] = ++it->second;
      }
    }
    // Several records must outlive the builder's next use: they are copied, 8-byte aligned as
    // VerifyRecord requires.
    std::vector<std::vector<uint64_t>> copies;
    std::vector<std::span<const uint8_t>> records;
    copies.reserve(facts.size());
    for (size_t i = 0; i < facts.size(); ++i) {
      const std::span<const uint8_t> bytes = EncodeFact(builder, command.header, facts[i],
                                                        {.command_hash = hash,
                                                         .command_part = static_cast<uint16_t>(i),
                                                         .command_parts = parts,
                                                         .stream_version = versions[i]});
      if (facts.size() == 1) {
        records.push_back(bytes);  // added before the builder's next use
      } else {
        copies.push_back(AlignedCopy(bytes));
        records.emplace_back(reinterpret_cast<const uint8_t*>(copies.back().data()), bytes.size());
      }
    }
    const Status added =
        facts.size() == 1 ? into.batch.AddRecord(records[0]) : into.batch.AddCommand(records);
    if (!added.ok()) {
      slot.result = CommandFailed{InternalError(
          fmt::format("the accepted command's records were refused ({}); nothing was appended",
                      added.ToString()))};
      return;
    }
    // An all-or-none list keeps what its commands change, to put it back should a later
    // command of the list fail; other commands go straight into the group's state delta.
    Touched own;
    Touched& touched = backups != nullptr ? own : into.touched;
    bool policy_changed = false;
    for (const Fact& fact : facts) {
      Touch(fact, touched);
      policy_changed = policy_changed || std::holds_alternative<PolicyChanged>(fact);
    }
    if (backups != nullptr) backups->emplace_back(state, own);
    for (size_t i = 0; i < facts.size(); ++i) {
      Evolve(state, facts[i], *date, Book());
      HPF_DEBUG_ASSERT(VersionOf(StreamOf(facts[i])) == versions[i]);
    }
#ifndef NDEBUG
    for (const Fact& fact : facts) {
      const std::vector<Posting> postings = PostingsOf(fact);
      HPF_DEBUG_ASSERT(Balanced(postings));
      if (&into == building.get()) {
        book.Post(postings);
      } else {
        into.unposted.insert(into.unposted.end(), postings.begin(), postings.end());
      }
    }
#endif
    if (backups != nullptr) into.touched.Merge(own);
    if (policy_changed) into.policy = state.policy;
    auto cell = std::make_shared<PositionCell>();
    into.cells.push_back(cell);
    slot.cell = cell;
    const std::string& key = command.header.idempotency_key;
    HPF_ASSERT(!key.empty());  // Decide() rejects a command without one
    inflight_keys.emplace(key, InflightKey{hash, cell});
    into.keys.push_back(key);
    if (&into == building.get()) last_nonempty = building->seq;
  }

  // ------------------------------------------------------------------ appending
  static std::pair<Fen, Fen> SumBalancesAndSuspense(const State& of) {
    Fen balances;
    Fen suspense;
    for (const auto& [id, account] : of.accounts) balances += account.balance;
    for (const auto& [id, employer] : of.employers) suspense += employer.suspense;
    return {balances, suspense};
  }

#ifndef NDEBUG
  // O(entities): debug builds only (HPF_DEBUG_ASSERT, STYLE 5.3).
  void CheckBooks() const {
    HPF_DEBUG_ASSERT(book.Sum() == Fen{0});
    const auto [balances, suspense] = SumBalancesAndSuspense(state);
    // 201 and 219 are liabilities: credit-positive movements show as negative debit balances.
    HPF_DEBUG_ASSERT(book.Total(GlAccount::kPersonalAccounts) == opening_balances - balances);
    HPF_DEBUG_ASSERT(book.Total(GlAccount::kSuspense) == opening_suspense - suspense);
  }
#endif

  void Send() {
    Group& group = *building;
    for (const EmployerId id : group.touched.employers) {
      const EmployerState* employer = state.employer(id);
      HPF_ASSERT(employer != nullptr);
      const Status put = group.batch.PutState(internal::EmployerStateKey(id),
                                              internal::EncodeEmployerState(*employer));
      HPF_ASSERT(put.ok());  // keys and values are far below the log's limits
    }
    for (const AccountId id : group.touched.accounts) {
      const AccountState* account = state.account(id);
      HPF_ASSERT(account != nullptr);
      const Status put = group.batch.PutState(internal::AccountStateKey(id),
                                              internal::EncodeAccountState(*account));
      HPF_ASSERT(put.ok());
    }
    for (const uint64_t id : group.touched.withdrawals) {
      const WithdrawalState* withdrawal = state.withdrawal(id);
      HPF_ASSERT(withdrawal != nullptr);
      const Status put = group.batch.PutState(internal::WithdrawalStateKey(id),
                                              internal::EncodeWithdrawalState(*withdrawal));
      HPF_ASSERT(put.ok());
    }
    for (const uint64_t position : group.touched.reversed_positions) {
      HPF_ASSERT(state.reversed_positions.contains(position));  // reversals are never undone
      const Status put = group.batch.PutState(internal::ReversedStateKey(position),
                                              internal::EncodeReversedMark());
      HPF_ASSERT(put.ok());
    }
    if (group.touched.policy) {
      const Status put = group.batch.PutState(std::string(internal::kPolicyStateKey),
                                              internal::EncodePolicyState(state.policy));
      HPF_ASSERT(put.ok());  // the document is bounded far below the log's value limit
    }
    if (group.touched.fund) {
      const Status put =
          group.batch.PutState(internal::FundStateKey(), internal::EncodeFundState(state.fund));
      HPF_ASSERT(put.ok());
    }
#ifndef NDEBUG
    CheckBooks();
#endif
    // Step 1 of the flow looked every key up in the log and among the keys in flight, and
    // the sequencer is the log's only appender: the log need not search again.
    group.batch.PromiseKeysAreNew();
    SharedAppend append = log->AppendAsync(std::move(group.batch)).share();
    // A refusal the log answers at once (closing, read-only, an index read error) must stop
    // the pipeline before a later group is written on top of this one.
    if (append.wait_for(std::chrono::seconds(0)) == std::future_status::ready &&
        !append.get().has_value()) {
      Fail(group.seq, append.get().error());
    }
    {
      std::lock_guard lock(mutex);
      to_wait.emplace_back(group.seq, std::move(append));
    }
    waiter_cv.notify_one();
    const uint64_t next_seq = group.seq + 1;
    in_flight.push_back(std::move(building));
    building = std::make_unique<Group>();
    building->seq = next_seq;
  }

  void OnCompletion(Completion& completion) {
    HPF_ASSERT(!in_flight.empty());
    std::unique_ptr<Group> group = std::move(in_flight.front());
    in_flight.pop_front();
    HPF_ASSERT(group->seq == completion.seq);
    for (const std::string& key : group->keys) inflight_keys.erase(key);
    if (!failed.ok() && group->seq > failed_seq) return;  // answered as failed already
    if (!failed.ok() && group->seq == failed_seq) {
      AnswerFailure();
      return;
    }
    if (!completion.result.has_value()) {
      Fail(group->seq, completion.result.error());
      AnswerFailure();
      return;
    }
    const std::vector<events::CommandResult>& results = completion.result->commands;
    Status mismatch;
    if (results.size() != group->cells.size()) {
      mismatch = InternalError(fmt::format("the log answered {} commands for a group of {}",
                                           results.size(), group->cells.size()));
    }
    for (size_t i = 0; mismatch.ok() && i < results.size(); ++i) {
      if (results[i].outcome != events::CommandOutcome::kAppended) {
        // Its key was in the log although FindKey() did not see it: another writer.
        mismatch = InternalError(fmt::format(
            "the log did not append a command the sequencer had checked (position {}); is "
            "another process appending to the log?",
            results[i].position.value));
      }
    }
    if (!mismatch.ok()) {
      Fail(group->seq, mismatch);
      AnswerFailure();
      return;
    }
    for (size_t i = 0; i < results.size(); ++i) group->cells[i]->position = results[i].position;
    if (group->policy.version != 0) PublishPolicy(group->policy);
    durable_through = group->seq;
    AnswerReady();
  }

  void Fail(uint64_t seq, const Status& status) {
    HPF_ASSERT(!status.ok());
    if (!failed.ok() && failed_seq <= seq) return;
    failed = Status(status.code(),
                    fmt::format("the sequencer stopped after a failed append ({}); reopen the "
                                "log and the sequencer",
                                status.message()));
    failed_seq = seq;
    std::lock_guard lock(mutex);
    health = failed;
  }

  // The failed group's turn: everything decided on top of it fails; all waiting is answered.
  void AnswerFailure() {
    failure_answered = true;
    for (auto& submission : waiting) {
      for (Slot& slot : submission->slots) {
        if (slot.decided_in >= failed_seq) slot.result = CommandFailed{failed};
      }
    }
    AnswerReady();
  }

  void AnswerReady() {
    while (!waiting.empty() && (failure_answered || waiting.front()->wait_for <= durable_through)) {
      Answer(*waiting.front());
      waiting.pop_front();
    }
  }

  void Answer(Submission& submission) {
    std::vector<CommandResult> results;
    results.reserve(submission.slots.size());
    for (Slot& slot : submission.slots) {
      if (slot.result.has_value()) {
        results.push_back(std::move(*slot.result));
      } else {
        HPF_ASSERT(slot.cell != nullptr);
        HPF_ASSERT(slot.cell->position.has_value());  // its group is durable
        const GlobalPosition position = *slot.cell->position;
        // Emplaced by type: a temporary variant here trips GCC 12's maybe-uninitialized
        // warning (a false positive about the other alternatives' strings) at -O2.
        if (slot.duplicate) {
          results.emplace_back(std::in_place_type<CommandDuplicate>, CommandDuplicate{position});
        } else {
          results.emplace_back(std::in_place_type<CommandAccepted>, CommandAccepted{position});
        }
      }
    }
    submission.done.set_value(std::move(results));
  }
};

// ------------------------------------------------------------------ Sequencer

Result<std::unique_ptr<Sequencer>> Sequencer::Open(const SequencerOptions& options) {
  if (options.log == nullptr) return InvalidArgumentError("SequencerOptions.log is required");
  if (options.policy == nullptr) {
    return InvalidArgumentError("SequencerOptions.policy is required");
  }
  auto impl = std::make_unique<Impl>();
  impl->log = options.log;
  impl->initial_policy = options.policy;
  impl->groups_in_flight_max = options.groups_in_flight_max == 0 ? kSequencerGroupsInFlightMax
                                                                 : options.groups_in_flight_max;
  if (impl->groups_in_flight_max > kGroupsInFlightLimit) {
    return InvalidArgumentError(fmt::format("groups_in_flight_max {} is above {}",
                                            impl->groups_in_flight_max, kGroupsInFlightLimit));
  }
  impl->group_records_max =
      options.group_records_max == 0 ? kGroupRecordsDefault : options.group_records_max;
  if (impl->group_records_max > kGroupRecordsDefault) {
    return InvalidArgumentError(fmt::format("group_records_max {} is above {}",
                                            impl->group_records_max, kGroupRecordsDefault));
  }
  // Submit() hashes commands with SHA-256 on its callers' threads: refuse to open without it.
  HPF_RETURN_IF_ERROR(events::ChainHasher::Create(events::HashAlgorithm::kSha256).status());
  HPF_ASSIGN_OR_RETURN(impl->state, internal::LoadState(*options.log));
  const bool new_policy = impl->state.policy.version == 0;
  if (!new_policy) impl->PublishPolicy(impl->state.policy);  // the log's, not the options'
  std::tie(impl->opening_balances, impl->opening_suspense) =
      Impl::SumBalancesAndSuspense(impl->state);
  impl->building = std::make_unique<Group>();
  impl->building->seq = 1;
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hpf-sequencer");  // for top, perf and gdb
    raw->Run();
  });
  impl->waiter = std::thread([raw] {
    pthread_setname_np(pthread_self(), "hpf-seq-waiter");
    raw->WaitLoop();
  });
  auto sequencer = std::unique_ptr<Sequencer>(new Sequencer(std::move(impl)));
  if (new_policy) HPF_RETURN_IF_ERROR(sequencer->RecordInitialPolicy(*options.policy));
  return sequencer;
}

Status Sequencer::RecordInitialPolicy(const PolicyBook& book) {
  const uint32_t first_day = book.versions().front().effective_from.yyyymmdd();
  std::vector<Command> genesis;
  genesis.push_back(Command{
      .header = {.idempotency_key = std::string(kGenesisIdempotencyKey),
                 .actor = std::string(kSystemActor),
                 .channel = std::string(kSystemActor),
                 .effective_date = first_day},
      .body = ChangePolicy{.document = PolicyToJson(book),
                           .effective_from = first_day,
                           .summary = "the initial policy, given to the ledger with its new store",
                           .approval_reference = "genesis"}});
  const CommandResult result = Submit(std::move(genesis)).get().at(0);
  Status status;
  if (const auto* rejected = std::get_if<CommandRejected>(&result)) {
    status = InvalidArgumentError(fmt::format("the initial policy is refused ({}): {}",
                                              RejectionCode(rejected->detail.rejection),
                                              rejected->detail.message));
  } else if (const auto* failed = std::get_if<CommandFailed>(&result)) {
    status = failed->status;
  } else if (std::holds_alternative<CommandDuplicate>(result)) {
    status = CorruptionError(
        fmt::format("the log holds the initial policy (key '{}') but the stored state has no "
                    "policy",
                    kGenesisIdempotencyKey));
  }
  if (!status.ok()) Close().IgnoreError();  // `status` says why; nothing else is queued
  return status;
}

uint64_t Sequencer::policy_version() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->durable_policy_version;
}

std::shared_ptr<const PolicyBook> Sequencer::policy() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->durable_policy;
}

Sequencer::Sequencer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Sequencer::~Sequencer() {
  // The failure, if any, was answered to every submitter already.
  Close().IgnoreError();
}

std::future<std::vector<CommandResult>> Sequencer::Submit(std::vector<Command> commands) {
  return Submit(std::move(commands), SubmitOptions{});
}

std::future<std::vector<CommandResult>> Sequencer::Submit(std::vector<Command> commands,
                                                          SubmitOptions options) {
  auto submission = std::make_unique<Submission>();
  submission->all_or_none = options.atomicity == Atomicity::kAllOrNone;
  auto future = submission->done.get_future();
  const size_t count = commands.size();
  if (count == 0) {
    submission->done.set_value({});
    return future;
  }
  submission->commands = std::move(commands);
  submission->slots.resize(count);
  thread_local const std::unique_ptr<events::ChainHasher> sha256 =
      events::ChainHasher::Create(events::HashAlgorithm::kSha256).value();
  submission->hashes.reserve(count);
  for (const Command& command : submission->commands) {
    submission->hashes.push_back(internal::CommandHash(command, *sha256));
  }
  {
    std::unique_lock lock(impl_->mutex);
    impl_->space_cv.wait(lock, [&] {
      return impl_->stopping || impl_->queued_commands == 0 ||
             impl_->queued_commands + count <= kSequencerQueuedCommandsMax;
    });
    if (!impl_->stopping) {
      impl_->queued_commands += count;
      impl_->submitted.push_back(std::move(submission));
    }
  }
  if (submission != nullptr) {  // not queued: closing
    submission->done.set_value(std::vector<CommandResult>(
        count, CommandFailed{UnavailableError("the sequencer is closed")}));
    return future;
  }
  impl_->work_cv.notify_one();
  return future;
}

Status Sequencer::Close() {
  std::lock_guard close_lock(impl_->close_mutex);
  if (!impl_->closed) {
    {
      std::lock_guard lock(impl_->mutex);
      impl_->stopping = true;
    }
    impl_->work_cv.notify_one();
    impl_->space_cv.notify_all();
    impl_->thread.join();
    impl_->waiter.join();
    impl_->closed = true;
  }
  return health();
}

Status Sequencer::health() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->health;
}

State Sequencer::SnapshotForTesting() {
  std::promise<State> promise;
  auto future = promise.get_future();
  {
    std::lock_guard lock(impl_->mutex);
    HPF_ASSERT(!impl_->stopping);
    impl_->snapshot_requests.push_back(std::move(promise));
  }
  impl_->work_cv.notify_one();
  return future.get();
}

}  // namespace hpf::ledger
