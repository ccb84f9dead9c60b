// events/record.cc
#include "events/record.h"

#include <cstring>

#include <fmt/core.h>

#include "events/limits.h"

namespace hpf::events {

namespace {
schema::Digest ToSchemaDigest(const Digest& digest) {
  return schema::Digest(flatbuffers::span<const uint8_t, 32>(digest.data(), digest.size()));
}
// FlatBuffers 2.0's verifier checks that a vector's length prefix is 4-byte aligned but not
// that its elements are (google/flatbuffers#8397): a vector of structs holding 64-bit fields
// may start 4 bytes off, and reading it is a misaligned load (undefined behaviour; found by
// record_fuzz). The buffer starts 8-byte aligned, so an address check is an offset check.
// Every vector of 8-byte structs in the schemas is listed here; record_fuzz flags a new one.
template <typename T>
bool ElementsAligned(const flatbuffers::Vector<const T*>* vector) {
  // An empty vector has no element to misread (builders may leave it 4 bytes off).
  return vector == nullptr || vector->size() == 0 ||
         reinterpret_cast<uintptr_t>(vector->Data()) % alignof(T) == 0;
}

bool VectorsAligned(const schema::Record& record) {
  if (!ElementsAligned(record.postings())) return false;
  switch (record.payload_type()) {
    case schema::Event::InterestToDateCredited:
      return ElementsAligned(record.payload_as_InterestToDateCredited()->segments());
    case schema::Event::YearEndInterestCredited:
      return ElementsAligned(record.payload_as_YearEndInterestCredited()->segments());
    default:
      return true;
  }
}

Digest FromSchemaDigest(const schema::Digest& digest) {
  Digest out{};
  std::memcpy(out.data(), digest.bytes()->data(), out.size());
  return out;
}
}  // namespace

flatbuffers::FlatBufferBuilder& RecordBuilder::fbb() {
  if (!building_) {
    fbb_.Clear();
    building_ = true;
  }
  return fbb_;
}

std::span<const uint8_t> RecordBuilder::Finish(const EnvelopeFields& envelope, schema::Event type,
                                               flatbuffers::Offset<void> payload,
                                               std::span<const schema::Posting> postings) {
  auto& b = fbb();
  const auto key = b.CreateString(envelope.idempotency_key.data(), envelope.idempotency_key.size());
  const auto actor = b.CreateString(envelope.actor.data(), envelope.actor.size());
  const auto channel = b.CreateString(envelope.channel.data(), envelope.channel.size());
  const auto posting_vector = b.CreateVectorOfStructs(postings.data(), postings.size());
  // A zero link is written explicitly (structs are always stored when set) so that the log
  // can fill it in place.
  const schema::ChainLink zero_link(0, 0, ToSchemaDigest(Digest{}));
  const schema::Digest command_hash = ToSchemaDigest(envelope.command_hash);
  schema::EnvelopeBuilder eb(b);
  eb.add_link(&zero_link);
  eb.add_effective_date(envelope.effective_date);
  eb.add_stream_kind(envelope.stream_kind);
  eb.add_stream_id(envelope.stream_id);
  eb.add_stream_version(envelope.stream_version);
  eb.add_idempotency_key(key);
  eb.add_command_hash(&command_hash);
  eb.add_command_part(envelope.command_part);
  eb.add_command_parts(envelope.command_parts);
  eb.add_actor(actor);
  eb.add_channel(channel);
  eb.add_schema_version(kSchemaVersion);
  const auto env = eb.Finish();
  schema::RecordBuilder rb(b);
  rb.add_envelope(env);
  rb.add_payload_type(type);
  rb.add_payload(payload);
  rb.add_postings(posting_vector);
  b.Finish(rb.Finish(), schema::RecordIdentifier());
  building_ = false;
  return {b.GetBufferPointer(), b.GetSize()};
}

Result<const schema::Record*> VerifyRecord(std::span<const uint8_t> bytes) {
  HPF_ASSERT(reinterpret_cast<uintptr_t>(bytes.data()) % 8 == 0);
  if (bytes.size() > kRecordBytesMax) {
    return CorruptionError(
        fmt::format("record of {} bytes exceeds the limit of {}", bytes.size(), kRecordBytesMax));
  }
  if (bytes.size() < 8 ||
      !flatbuffers::BufferHasIdentifier(bytes.data(), schema::RecordIdentifier())) {
    return CorruptionError("not a record: missing the HPF1 file identifier");
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = 16;
  options.max_tables = 4096;
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  if (!schema::VerifyRecordBuffer(verifier)) {
    return CorruptionError("record does not verify against schemas/record.fbs");
  }
  const schema::Record* record = schema::GetRecord(bytes.data());
  if (record->envelope() == nullptr || record->envelope()->link() == nullptr) {
    return CorruptionError("record has no envelope or no chain link");
  }
  if (record->payload_type() == schema::Event::NONE || record->payload() == nullptr) {
    return CorruptionError("record has no event payload");
  }
  if (!VectorsAligned(*record)) {
    return CorruptionError("record has a vector of 8-byte structs that is not 8-byte aligned");
  }
  return record;
}

Status CheckPostingsBalance(const schema::Record& record) {
  const auto* postings = record.postings();
  if (postings == nullptr) return Status::Ok();
  int64_t debits = 0;
  int64_t credits = 0;
  for (const schema::Posting* posting : *postings) {
    if (posting->amount_fen() <= 0) {
      return InvalidArgumentError(fmt::format("posting to {} has a non-positive amount {}",
                                              posting->gl_account(), posting->amount_fen()));
    }
    switch (posting->side()) {
      case schema::Side::Debit:
        if (__builtin_add_overflow(debits, posting->amount_fen(), &debits)) {
          return InvalidArgumentError("the debits of one record overflow int64 fen");
        }
        break;
      case schema::Side::Credit:
        if (__builtin_add_overflow(credits, posting->amount_fen(), &credits)) {
          return InvalidArgumentError("the credits of one record overflow int64 fen");
        }
        break;
      default:
        return InvalidArgumentError(fmt::format("posting to {} has an unknown side {}",
                                                posting->gl_account(),
                                                static_cast<int>(posting->side())));
    }
  }
  if (debits != credits) {
    return InvalidArgumentError(
        fmt::format("postings do not balance: debits {} fen, credits {} fen", debits, credits));
  }
  return Status::Ok();
}

void PatchLink(std::span<uint8_t> bytes, GlobalPosition position, int64_t recorded_at_us,
               const Digest& prev_hash) {
  schema::Record* record = schema::GetMutableRecord(bytes.data());
  schema::ChainLink* link = record->mutable_envelope()->mutable_link();
  HPF_ASSERT(link != nullptr);
  link->mutate_position(position.value);
  link->mutate_recorded_at_us(recorded_at_us);
  std::memcpy(link->mutable_prev_hash().mutable_bytes()->Data(), prev_hash.data(),
              prev_hash.size());
}

GlobalPosition RecordPosition(const schema::Record& record) {
  return GlobalPosition{record.envelope()->link()->position()};
}

Digest RecordPrevHash(const schema::Record& record) {
  return FromSchemaDigest(record.envelope()->link()->prev_hash());
}

std::string_view RecordIdempotencyKey(const schema::Record& record) {
  const auto* key = record.envelope()->idempotency_key();
  return key == nullptr ? std::string_view() : key->string_view();
}

Digest RecordCommandHash(const schema::Record& record) {
  const auto* hash = record.envelope()->command_hash();
  return hash == nullptr ? Digest{} : FromSchemaDigest(*hash);
}

std::string_view EventTypeName(schema::Event type) { return schema::EnumNameEvent(type); }

}  // namespace hpf::events
