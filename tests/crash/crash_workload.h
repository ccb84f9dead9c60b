// tests/crash/crash_workload.h — the contract between the crash test and its child process.
//
// The child (crash_appender.cc) appends to an EventLog until the parent (log_crash_test.cc)
// kills it with SIGKILL; the parent then reopens the store and checks it against what the child
// reported. Both sides agree here on:
//  - the commands: a command's key, its number of records and its bytes follow from its
//    CommandId and the workload alone, so the parent can rebuild any command to re-submit it;
//  - the state delta: every batch of new commands puts "count/<thread>" = the records of that
//    thread in the log once the batch is in, so the state can be checked against the log;
//  - the messages on the pipe: fixed-size, sealed with a checksum, written with one write()
//    of at most PIPE_BUF bytes, which POSIX makes atomic — a message is whole or absent.
// Thread safety: all functions are pure.
#pragma once

#include <cstdint>
#include <limits.h>
#include <optional>
#include <string>
#include <string_view>

#include "events/append_batch.h"
#include "events/status.h"

namespace hpf::testing::crash {

enum class Workload : uint8_t {
  kMixed = 0,          // batches of 1..500 commands, some commands of 2-3 records
  kLargeCommands = 1,  // one command of kCommandRecordsMax records per batch
};

// Which command: the round (process lifetime) that first submitted it, the submitting thread,
// and the thread's sequence number within the round. Distinct ids give distinct keys.
struct CommandId {
  uint32_t round = 0;
  uint32_t thread = 0;
  uint64_t seq = 0;
  bool operator==(const CommandId&) const = default;
};

// "r<round>-t<thread>-c<seq>", and back.
std::string CommandKey(const CommandId& id);
std::optional<CommandId> ParseCommandKey(std::string_view key);

// Records in the command: 1..3 for kMixed (mostly 1), kCommandRecordsMax for kLargeCommands.
uint32_t CommandParts(Workload workload, const CommandId& id);

// Builds the command's records (parts 0..n-1 sharing its key and command hash) and adds them
// to `batch`. The same id always gives the same bytes, so a re-submission is a duplicate.
Status AddCommand(events::AppendBatch& batch, Workload workload, const CommandId& id);

// The state key holding the number of records `thread` has in the log.
std::string CountStateKey(uint32_t thread);

// The file descriptor the child writes its messages to (the parent dup2()s the pipe there).
inline constexpr int kMessageFd = 3;

enum class MessageKind : uint16_t {
  kSubmitted = 1,            // about to call Append() with these commands (positions unknown)
  kAcknowledged = 2,         // Append() returned them all appended at first..last_position
  kDuplicatesConfirmed = 3,  // re-submitted `command_count` acknowledged commands; every one
                             // came back kDuplicate at its original position
};

// One report. A batch's commands are first_seq .. first_seq + command_count - 1 of `thread`
// in `round`; they hold record_count records at first_position .. last_position.
struct Message {
  uint32_t magic = 0;
  MessageKind kind = MessageKind::kSubmitted;
  uint16_t thread = 0;
  uint32_t round = 0;
  uint32_t command_count = 0;
  uint64_t first_seq = 0;
  uint64_t record_count = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t reserved = 0;
  uint64_t checksum = 0;  // over every byte before it; set by Seal()
};
static_assert(sizeof(Message) == 64, "the message layout is the pipe's wire format");
static_assert(sizeof(Message) <= PIPE_BUF, "a pipe write of at most PIPE_BUF bytes is atomic");

// Sets magic and checksum. A message that is not sealed was damaged in transit (a test bug).
void Seal(Message& message);
bool IsSealed(const Message& message);

// A well-mixed 64-bit value of `x` (SplitMix64), for deriving seeds from a base seed.
uint64_t Mix(uint64_t x);

}  // namespace hpf::testing::crash
