// tests/fuzz/record_fuzz.cc — libFuzzer target for VerifyRecord (events/record.h), the one
// check every record from outside the process passes: RocksDB values, Kafka messages, golden
// files (STYLE 5.5).
//
// Properties: VerifyRecord never crashes or reads outside the input, whatever the bytes; and a
// record it accepts can be read in full (envelope, link, postings, every payload field)
// without leaving the buffer, which is the promise the rest of the code relies on when it
// decodes without re-validating. CheckPostingsBalance runs on every accepted record.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <flatbuffers/minireflect.h>

#include "events/record.h"
#include "tests/fuzz/fuzz_input.h"

namespace hpf::fuzz {
namespace {

namespace schema = ::hpf::schema::v1;

// The alignment a FlatBuffers builder gives a value of `type`: a scalar's size, a struct's
// largest member, 4 for the offset that stands for a table, string, vector or union.
size_t AlignmentOf(flatbuffers::ElementaryType type, const flatbuffers::TypeTable* type_table) {
  if (type != flatbuffers::ET_SEQUENCE || type_table->st != flatbuffers::ST_STRUCT) {
    return flatbuffers::InlineSize(type, type_table);
  }
  size_t alignment = 1;
  for (size_t i = 0; i < type_table->num_elems; ++i) {
    const flatbuffers::TypeCode code = type_table->type_codes[i];
    const flatbuffers::TypeTable* member =
        code.sequence_ref >= 0 ? type_table->type_refs[code.sequence_ref]() : nullptr;
    alignment = std::max(
        alignment, AlignmentOf(static_cast<flatbuffers::ElementaryType>(code.base_type), member));
  }
  return alignment;
}

// Touches every value mini-reflection finds, including the payload's fields of whatever event
// type the record holds, the way a projection decoding the event would. Mini-reflection reads
// with ReadScalar, which FlatBuffers exempts from UBSan's alignment check, so the visitor
// checks the alignment of every struct and vector element itself: generated accessors read
// them with plain typed loads (the buffer itself is 8-byte aligned, so addresses will do).
class ReadEveryField final : public flatbuffers::IterationVisitor {
 public:
  void Field(size_t, size_t, flatbuffers::ElementaryType type, bool is_vector,
             const flatbuffers::TypeTable* type_table, const char*, const uint8_t* value) override {
    if (value != nullptr && !is_vector) CheckAligned(value, AlignmentOf(type, type_table));
  }
  void Element(size_t, flatbuffers::ElementaryType type, const flatbuffers::TypeTable* type_table,
               const uint8_t* value) override {
    CheckAligned(value, AlignmentOf(type, type_table));
  }
  void UType(uint8_t value, const char*) override { Consume(value); }
  void Bool(bool value) override { Consume(value ? 1 : 0); }
  void Char(int8_t value, const char*) override { Consume(static_cast<uint8_t>(value)); }
  void UChar(uint8_t value, const char*) override { Consume(value); }
  void Short(int16_t value, const char*) override { Consume(static_cast<uint16_t>(value)); }
  void UShort(uint16_t value, const char*) override { Consume(value); }
  void Int(int32_t value, const char*) override { Consume(static_cast<uint32_t>(value)); }
  void UInt(uint32_t value, const char*) override { Consume(value); }
  void Long(int64_t value) override { Consume(static_cast<uint64_t>(value)); }
  void ULong(uint64_t value) override { Consume(value); }
  void Float(float value) override { Consume(value != 0.0f ? 1 : 0); }
  void Double(double value) override { Consume(value != 0.0 ? 1 : 0); }
  void String(const flatbuffers::String* value) override { Consume(value->string_view()); }

 private:
  static void CheckAligned(const uint8_t* value, size_t alignment) {
    HPF_ASSERT(reinterpret_cast<uintptr_t>(value) % alignment == 0);
  }
};

void ReadEnvelope(const schema::Record& record) {
  const schema::Envelope& envelope = *record.envelope();
  Consume(events::RecordPosition(record).value);
  Consume(static_cast<uint64_t>(envelope.link()->recorded_at_us()));
  Consume(events::RecordPrevHash(record));
  Consume(envelope.effective_date());
  Consume(schema::EnumNameEntityKind(envelope.stream_kind()));
  Consume(envelope.stream_id());
  Consume(envelope.stream_version());
  Consume(events::RecordIdempotencyKey(record));
  Consume(events::RecordCommandHash(record));
  Consume(envelope.command_part());
  Consume(envelope.command_parts());
  if (envelope.actor() != nullptr) Consume(envelope.actor()->string_view());
  if (envelope.channel() != nullptr) Consume(envelope.channel()->string_view());
  Consume(envelope.schema_version());
}

void ReadPostings(const schema::Record& record) {
  if (record.postings() == nullptr) return;
  for (const schema::Posting* posting : *record.postings()) {
    Consume(posting->gl_account());
    Consume(schema::EnumNameSide(posting->side()));
    Consume(schema::EnumNameEntityKind(posting->subledger_kind()));
    Consume(posting->reserved());
    Consume(posting->subledger_id());
    Consume(static_cast<uint64_t>(posting->amount_fen()));
  }
}

}  // namespace
}  // namespace hpf::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpf;
  const fuzz::AlignedCopy input(data, size);
  const auto record = events::VerifyRecord(input.bytes());
  if (!record.has_value()) return 0;
  const schema::v1::Record& verified = **record;
  // The log's own reader first, so that a finding's stack names events/ code where it can.
  const Status balance = events::CheckPostingsBalance(verified);
  fuzz::Consume(balance.message());
  fuzz::ReadEnvelope(verified);
  fuzz::ReadPostings(verified);
  fuzz::Consume(events::EventTypeName(verified.payload_type()));
  fuzz::ReadEveryField visitor;
  flatbuffers::IterateFlatBuffer(input.bytes().data(), schema::v1::RecordTypeTable(), &visitor);
  return 0;
}
