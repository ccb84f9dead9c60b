// ledger/record_encoding.h — a fact as a record of the event log (schemas/record.fbs): the
// schema table of the same name with every field the fact has, the fact's postings, and the
// envelope of the command that produced it.
//
// The sequencer calls this for each fact of an accepted command. The record's stream is the
// entity the fact is about (StreamOf) at its version after the fact; the envelope carries the
// command's effective date, idempotency key, content hash, actor and channel, and which of the
// command's records this is (command_part of command_parts). Lifecycle facts carry no
// postings; money facts carry PostingsOf(fact) (ledger/facts.h).
//
// Fields a schema table has but the fact does not (a partial withdrawal's local reason, loan
// payee and property price) are left at their defaults, as are optional ones the fact leaves
// empty (an approval reference, an identity digest of zeros, an account closing's cause when
// CloseAccount closed it);
// tests/ledger/record_encoding_test.cc lists them.
// A new Fact alternative, or a new field of one, fails to compile in record_encoding.cc until
// it is encoded.
// Thread safety: pure functions; a RecordBuilder belongs to one thread.
#pragma once

#include <cstdint>
#include <span>

#include "events/record.h"
#include "events/types.h"
#include "ledger/commands.h"
#include "ledger/facts.h"

namespace hpf::ledger {

namespace schema = ::hpf::schema::v1;

// The entity a record is about.
struct StreamRef {
  schema::EntityKind kind = schema::EntityKind::None;
  uint64_t id = 0;
  bool operator==(const StreamRef&) const = default;
};

// The policy has one stream (schemas/common.fbs EntityKind Policy) whose version is the
// policy's version.
inline constexpr uint64_t kPolicyStreamId = 1;

// The fund's one stream (settlement runs; value-added income later): id 1, ids start at 1.
inline constexpr uint64_t kFundStreamId = 1;

// The stream a fact's record belongs to: employer facts to the employer, account facts (and
// contribution allocations and interest credits) to the account, a withdrawal's application,
// review, payment and cancellation to the withdrawal, a policy change to the policy's stream,
// a settlement run's start and completion to the fund's.
StreamRef StreamOf(const Fact& fact);

// The schema union member (= table) a fact is recorded as.
schema::Event EventTypeOf(const Fact& fact);

// What a record takes from its command besides the header.
struct FactEnvelope {
  events::Digest command_hash{};  // internal/command_hash.h
  uint16_t command_part = 0;      // 0-based index of this fact among the command's facts
  uint16_t command_parts = 1;     // the command's fact count
  uint64_t stream_version = 0;    // the stream's version after this fact (>= 1)
};

// Builds the record of `fact` into `builder`, link zero (the log fills it in). The envelope's
// effective date is the header's, except for RecordReversed: the reversed record's (its value
// date is what the reversal undoes). The span is valid until the builder's next use.
// REQUIRES: the fact came from Decide() (its strings and amounts are within the limits Decide
// checks; a RecordReversed has its target); command_part < command_parts.
std::span<const uint8_t> EncodeFact(events::RecordBuilder& builder, const CommandHeader& header,
                                    const Fact& fact, const FactEnvelope& envelope);

// What a reversal (ReverseRecord) needs to know about the record it negates, read back from
// the stored record: its table's name, its fact if it is one a reversal can negate (else
// none), its effective date and `record_hash`, its hash in the chain. kCorruption naming the
// field if the payload does not decode as that fact (an unknown enum value, a date that does
// not exist). REQUIRES: `record` passed events::VerifyRecord.
Result<ReversalTarget> ReadReversalTarget(const schema::Record& record,
                                          const events::Digest& record_hash);

// A PolicyChanged record read back as its fact, for a replay to decide under the policy the
// log recorded: the document checked against its digest and parsed into `book`.
// kInvalidArgument if the record is another table; kCorruption naming the problem if it is
// not on the policy's stream at its version, its format is not JSON, the digest does not
// match or the document does not parse (a later build refusing an old document says so).
// REQUIRES: `record` passed events::VerifyRecord.
Result<PolicyChanged> ReadPolicyChanged(const schema::Record& record);

}  // namespace hpf::ledger
