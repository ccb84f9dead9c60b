// events/record.h — building, checking and reading one record (schemas/record.fbs).
//
// A producer builds a record with its link zeroed (RecordBuilder); the log fills in the link
// (position, commit time, previous hash) in place when it appends it (PatchLink). Bytes that
// come from outside the process — RocksDB values, Kafka messages, golden files — are checked
// once with VerifyRecord before anything reads them (STYLE 5.5).
// Thread safety: all functions are pure; a RecordBuilder belongs to one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include <flatbuffers/flatbuffers.h>

#include "events/status.h"
#include "events/types.h"
#include "schemas/record_generated.h"

namespace hpf::events {

namespace schema = ::hpf::schema::v1;

// The schema version this build writes into Envelope.schema_version.
inline constexpr uint16_t kSchemaVersion = 1;

// The envelope fields a producer chooses (the log chooses the link).
struct EnvelopeFields {
  uint32_t effective_date = 0;  // yyyymmdd
  schema::EntityKind stream_kind = schema::EntityKind::None;
  uint64_t stream_id = 0;
  uint64_t stream_version = 0;
  std::string_view idempotency_key;  // may be empty: the command is not deduplicated
  Digest command_hash{};
  uint16_t command_part = 0;
  uint16_t command_parts = 1;
  std::string_view actor;
  std::string_view channel;
};

// Builds records with a reused FlatBufferBuilder (no allocation once warm).
// Usage:
//   RecordBuilder b;
//   auto payload = schema::CreateBankReceiptRecorded(b.fbb(), ...);
//   std::span<const uint8_t> bytes = b.Finish(envelope, schema::Event::BankReceiptRecorded,
//                                             payload.Union(), postings);
// The span is valid until the next call to fbb() or Finish().
class RecordBuilder {
 public:
  RecordBuilder() : fbb_(1024) {}
  // The builder to create the payload table with; cleared for a new record.
  flatbuffers::FlatBufferBuilder& fbb();
  std::span<const uint8_t> Finish(const EnvelopeFields& envelope, schema::Event type,
                                  flatbuffers::Offset<void> payload,
                                  std::span<const schema::Posting> postings);

 private:
  flatbuffers::FlatBufferBuilder fbb_;
  bool building_ = false;
};

// Checks that `bytes` is a well-formed record (FlatBuffers verifier, identifier, size limit,
// an envelope with a link) and returns a view into them. Corruption with a specific message
// otherwise. REQUIRES: bytes.data() is 8-byte aligned.
Result<const schema::Record*> VerifyRecord(std::span<const uint8_t> bytes);

// Checks the double entry of a verified record: every amount > 0, Σ debits = Σ credits, and
// every side is Debit or Credit. InvalidArgument naming the rule otherwise.
Status CheckPostingsBalance(const schema::Record& record);

// Writes the link into a record whose link is zero. REQUIRES: `bytes` passed VerifyRecord.
void PatchLink(std::span<uint8_t> bytes, GlobalPosition position, int64_t recorded_at_us,
               const Digest& prev_hash);

// Reads a record's link fields. REQUIRES: the record passed VerifyRecord.
GlobalPosition RecordPosition(const schema::Record& record);
Digest RecordPrevHash(const schema::Record& record);
std::string_view RecordIdempotencyKey(const schema::Record& record);
Digest RecordCommandHash(const schema::Record& record);

// The event type's name from the schema ("BankReceiptRecorded").
std::string_view EventTypeName(schema::Event type);

}  // namespace hpf::events
