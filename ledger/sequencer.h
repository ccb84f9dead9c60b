// ledger/sequencer.h — the one writer (DESIGN §1, principles 2-4): it holds the write model in
// memory, decides every command against it, and appends the facts of accepted commands to the
// event log by group commit.
//
// Flow. Submit() queues a list of commands from any thread. The sequencer's thread takes the
// queue in order and, for each command:
//   1. idempotency: a key already used — in the log (EventLog::FindKey) or by an accepted
//      command not yet acknowledged — answers CommandDuplicate with the original's position
//      when the content hash (internal/command_hash.h) is the same, and
//      Rejection::kIdempotencyConflict when it differs; nothing is decided or appended for it.
//      (A key over events::kIdempotencyKeyBytesMax cannot be in the log: it is rejected with
//      kTextFieldInvalid before this step.);
//   2. the envelope's text: an actor over 128 or a channel over 64 bytes is
//      Rejection::kTextFieldInvalid (both travel in every record);
//   3. Decide() against the in-memory state; a rejection appends nothing. A ReverseRecord is
//      first given its target: the committed record at its position, read from the log
//      (ledger/commands.h), so that Decide() stays pure;
//   4. on acceptance, Evolve() the state and encode each fact as a record (record_encoding.h):
//      one command = one command of the AppendBatch, its facts numbered command_part 0..n-1.
//      Should the batch refuse the records (a field Decide() left unbounded makes one too
//      large), the entities the facts touched are restored and the command alone is
//      CommandFailed with kInternal.
// All or none. A list submitted with Atomicity::kAllOrNone is decided in order as one unit:
// its records are gathered apart and join the group being built only if every command is
// accepted or a duplicate (a duplicate changes nothing, so it does not stop the list); the
// list's records are then one AppendBatch's consecutive positions, in one group, durable
// together. If any command is rejected — an idempotency conflict included, it is a
// rejection — or fails, the entities the list's earlier commands changed are restored, their
// keys are forgotten, and nothing of the list is appended: that command keeps its own answer,
// every other command of the list is answered Rejection::kAtomicListAborted naming its index
// (CommandFailed with its code when it failed: resubmit). A group is never sent in the
// middle of a list: if its records do not fit beside the group being built, that group is
// sent first and the list decided again on an empty one. A list whose records exceed
// events::kBatchRecordsMax (one AppendBatch) is refused: the command that would pass the
// bound, or every command if the list has more commands than that, is
// Rejection::kAtomicListTooLarge. An all-or-none list is thus limited by the records one
// append holds, not by group_records_max, which it may pass.
//
// Everything decided while the log is busy forms the next group: ONE AppendBatch carrying the
// records of its accepted commands and, as its state delta, the stored form
// (internal/state_codec.h) of every employer, account and reversed position they changed —
// written by the log in the same WriteBatch, so the stored state always matches the stored log
// and opening never replays it (principle 4). Up to groups_in_flight_max groups are in the log at
// once, so the next group is decided while earlier ones are written and synced.
//
// Acknowledged means durable (principle 3): a Submit()'s results arrive only once every group
// its answers depend on is durable — for an accepted command its own group; for a rejection or
// a duplicate, the groups whose facts the decision saw — never an answer based on state that
// could still be lost.
//
// Failure. If an append fails (I/O, or the log refuses the batch), the in-memory state is
// ahead of the durable state: it holds facts the log may not have. The sequencer then stops:
// the commands of the failed group and every command decided after it, and every command
// submitted afterwards, are answered CommandFailed with the log's code, and nothing more is
// appended (groups already handed to the log are not recalled; for an I/O error the log fails
// them itself). A CommandFailed outcome is unknown, not negative: reopen the log and the
// sequencer (which reloads the state from what is durable) and resubmit; the idempotency key
// makes a resubmission safe.
//
// The policy is part of the log (DESIGN principle 8). Decisions use the book the log recorded
// last (a PolicyChanged, stored with the state under its own key): SequencerOptions.policy is
// only the INITIAL policy. On a store with no policy recorded — a new one, or one written
// before policies were recorded — Open() first appends, before any other command, the genesis
// ChangePolicy: the document PolicyToJson(*options.policy), effective from its first version,
// actor and channel kSystemActor, key kGenesisIdempotencyKey; it returns once that record is
// durable, or fails. On a store that has a policy, options.policy is ignored (the log is the
// truth); later changes are ChangePolicy commands like any other. policy() and
// policy_version() say which book the durable log holds.
//
// REQUIRES: the sequencer is the log's only appender while it is open. Its idempotency
// decision and its state deltas assume that nothing else moves the log.
//
// Threads: Open() starts the sequencer's thread — the only one that touches the state, decides
// or appends — and a helper that only waits for the log's group futures, in order, and hands
// each result back to it (a std::future cannot wake a thread that waits for new submissions
// too). Submit(), Close(), policy() and policy_version() may be called from any thread; the
// log and the initial policy book are borrowed and must outlive Open().
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "events/event_log.h"
#include "events/limits.h"
#include "events/status.h"
#include "events/types.h"
#include "ledger/commands.h"
#include "ledger/policy.h"
#include "ledger/rejection.h"
#include "ledger/state.h"

namespace hpf::ledger {

// Groups handed to the log and not yet acknowledged. The log's pipeline has three stages
// (writer, committer, syncer); one more keeps it fed while the sequencer decides.
inline constexpr size_t kSequencerGroupsInFlightMax = 4;
// Commands submitted and not yet decided: back-pressure for Submit() beyond this. About a
// second of decisions; enough to fill several maximal groups.
inline constexpr size_t kSequencerQueuedCommandsMax = 1 << 20;

// The genesis policy change (see the file comment).
inline constexpr std::string_view kGenesisIdempotencyKey = "policy/genesis";
inline constexpr std::string_view kSystemActor = "system";

// How the commands of one Submit() are decided: each on its own, or all or none (see the
// file comment).
enum class Atomicity : uint8_t {
  kEachOnItsOwn,
  kAllOrNone,
};

struct SubmitOptions {
  Atomicity atomicity = Atomicity::kEachOnItsOwn;
};

struct SequencerOptions {
  events::EventLog* log = nullptr;  // required; see the file comment
  // Required: the initial policy, recorded as the genesis on a store without one; ignored
  // when the store has a policy (see the file comment).
  const PolicyBook* policy = nullptr;
  // Groups in the log at once, 1 .. 64; 0 means kSequencerGroupsInFlightMax. 1 stops the
  // pipeline: the next group is sent only once the previous one is durable (it is still
  // decided meanwhile).
  size_t groups_in_flight_max = 0;
  // A group (one AppendBatch) is closed once it holds this many records; its last command may
  // take it past by up to events::kCommandRecordsMax - 1. 0 means, and at most is,
  // events::kBatchRecordsMax - events::kCommandRecordsMax. Tests use small values to force
  // many groups.
  size_t group_records_max = 0;
};

// The command's facts were appended; `position` is its first record's.
struct CommandAccepted {
  events::GlobalPosition position;
};
// The key was used before by the same command (same content hash): nothing was appended;
// `position` is the original's first record.
struct CommandDuplicate {
  events::GlobalPosition position;
};
// A business rule said no (including kIdempotencyConflict): nothing was appended.
struct CommandRejected {
  RejectionDetail detail;
};
// The environment failed (see "Failure" above): the outcome is unknown; resubmit.
struct CommandFailed {
  Status status;
};
using CommandResult =
    std::variant<CommandAccepted, CommandDuplicate, CommandRejected, CommandFailed>;

class Sequencer {
 public:
  // Loads the state from the log's stored state (never from its records), starts the thread
  // and, on a store without a policy, records the genesis (see the file comment).
  // kInvalidArgument if a required option is missing or the initial policy is refused (its
  // rejection's code and message: a document too large for a record, say); kCorruption if the
  // stored state does not decode or does not hold together; the log's read and append errors
  // as they come.
  static Result<std::unique_ptr<Sequencer>> Open(const SequencerOptions& options);

  ~Sequencer();  // Close()
  Sequencer(const Sequencer&) = delete;
  Sequencer& operator=(const Sequencer&) = delete;

  // Queues `commands` to be decided in order, after every command queued before. The future
  // completes with one result per command, in order, once the groups they depend on are
  // durable (see the file comment). Blocks while kSequencerQueuedCommandsMax commands wait
  // (unless none does). After Close() every command is answered CommandFailed (kUnavailable)
  // at once; after a failure, CommandFailed with the failure's code.
  std::future<std::vector<CommandResult>> Submit(std::vector<Command> commands);
  // The same, with the list decided as `options` says: with Atomicity::kAllOrNone, either
  // every command is accepted or a duplicate, or nothing of the list is appended (see the
  // file comment).
  std::future<std::vector<CommandResult>> Submit(std::vector<Command> commands,
                                                 SubmitOptions options);

  // Decides and appends everything already queued, waits until it is durable and answered,
  // stops the threads. Returns the failure that stopped the sequencer, if one did. Idempotent.
  Status Close();

  // OK while the sequencer accepts commands; the failure that stopped it otherwise.
  Status health() const;

  // The policy the durable log holds: the last PolicyChanged whose group is durable, and its
  // version (1 for the genesis). Never null after Open() succeeded.
  std::shared_ptr<const PolicyBook> policy() const;
  uint64_t policy_version() const;

  // A copy of the in-memory state taken between two commands: it includes accepted commands
  // whose group is not yet durable. For tests and diagnostics; it copies the whole state.
  // REQUIRES: not closed.
  State SnapshotForTesting();

 private:
  struct Impl;
  explicit Sequencer(std::unique_ptr<Impl> impl);
  // Appends the genesis and waits until it is durable; on failure closes the sequencer.
  Status RecordInitialPolicy(const PolicyBook& book);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hpf::ledger
