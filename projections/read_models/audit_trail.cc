// projections/read_models/audit_trail.cc
#include "projections/read_models/audit_trail.h"

#include <algorithm>

#include <fmt/core.h>

#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/record_fields.h"
#include "projections/read_models/limits.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey32;
using internal::AppendKey64;
using internal::AppendKey8;
using internal::BucketOf;
using internal::ReadKey32;
using internal::ReadKey64;
using internal::RecordError;
using internal::ValueReader;
using internal::ValueWriter;

constexpr std::string_view kEntryPrefix = "g/";
constexpr std::string_view kActorPrefix = "a/";
constexpr std::string_view kEntityPrefix = "e/";
constexpr std::string_view kDatePrefix = "d/";

void EntryBlockKey(std::string& key, uint64_t bucket) {
  key.assign(kEntryPrefix);
  AppendKey64(key, bucket);
}

void ActorPrefix(std::string& key, std::string_view actor) {
  key.assign(kActorPrefix);
  AppendKey8(key, static_cast<uint8_t>(actor.size()));
  key.append(actor);
}

// Personal accounts share a block per page of ids (a dozen records each a year); every other
// entity (an employer's suspense takes every line of its lists, a deposit every receipt) has
// blocks of its own, so that asking for one does not read its neighbours' records.
void EntityPrefix(std::string& key, schema::EntityKind kind, uint64_t id) {
  key.assign(kEntityPrefix);
  AppendKey8(key, static_cast<uint8_t>(kind));
  AppendKey64(key, kind == schema::EntityKind::Account ? id / kAccountsPerPage : id);
}

void DatePrefix(std::string& key, uint32_t date) {
  key.assign(kDatePrefix);
  AppendKey32(key, date);
}

// The row key width of a block, by its key (0: not a block of this projection).
size_t KeyBytesOf(std::string_view key) {
  if (key.starts_with(kEntryPrefix) && key.size() == 2 + 8) return 8;
  if (key.starts_with(kEntityPrefix) && key.size() == 2 + 1 + 8 + 8) return 16;
  if (key.starts_with(kDatePrefix) && key.size() == 2 + 4 + 8) return 8;
  if (key.starts_with(kActorPrefix) && key.size() >= 2 + 1 + 8 &&
      key.size() == size_t{2 + 1 + 8} + static_cast<uint8_t>(key[2])) {
    return 8;
  }
  return 0;
}

std::string_view Text(const flatbuffers::String* text) {
  return text == nullptr ? std::string_view() : text->string_view();
}

Status DecodeEntry(std::string_view row, AuditEntry* entry) {
  if (!ReadKey64(row, 0, &entry->position)) return CorruptionError("audit entry without a key");
  const std::string what = fmt::format("audit entry at position {}", entry->position);
  ValueReader reader(row.substr(8));
  const uint32_t effective = reader.U32();
  entry->recorded_at_us = reader.I64();
  const uint8_t type = reader.U8();
  const uint8_t stream_kind = reader.U8();
  entry->stream_id = reader.U64();
  entry->stream_version = reader.U64();
  entry->command_part = reader.U16();
  entry->command_parts = reader.U16();
  entry->debits = ledger::Fen{reader.I64()};
  entry->actor = reader.Text();
  entry->channel = reader.Text();
  entry->idempotency_key = reader.Text();
  HPF_RETURN_IF_ERROR(reader.Finish(what));
  auto date = ledger::Date::FromYyyymmdd(effective);
  if (!date.has_value()) return ValueReader::Invalid(what, date.error().message());
  if (type > static_cast<uint8_t>(schema::Event::MAX) ||
      stream_kind > static_cast<uint8_t>(schema::EntityKind::MAX)) {
    return ValueReader::Invalid(what, "unknown event type or stream kind");
  }
  entry->effective_date = *date;
  entry->event_type = events::EventTypeName(static_cast<schema::Event>(type));
  entry->stream_kind = static_cast<schema::EntityKind>(stream_kind);
  return Status::Ok();
}

// Finds entries by position, keeping the last block read (positions come in order).
class EntryReader {
 public:
  explicit EntryReader(const ReadView& view) : view_(view) {}
  Result<AuditEntry> Find(uint64_t position) {
    const uint64_t bucket = BucketOf(position);
    if (!loaded_ || bucket != bucket_) {
      std::string key;
      EntryBlockKey(key, bucket);
      HPF_ASSIGN_OR_RETURN(std::optional<std::string> block, view_.Get(key));
      block_ = block.value_or(std::string());
      bucket_ = bucket;
      loaded_ = true;
    }
    std::optional<AuditEntry> found;
    Status failed = Status::Ok();
    HPF_RETURN_IF_ERROR(internal::VisitBlockRows(block_, "audit block", [&](std::string_view row) {
      uint64_t at = 0;
      if (!ReadKey64(row, 0, &at)) {
        failed = CorruptionError("audit entry without a key");
        return false;
      }
      if (at < position) return true;
      if (at == position) {
        AuditEntry entry;
        failed = DecodeEntry(row, &entry);
        if (failed.ok()) found = std::move(entry);
      }
      return false;
    }));
    HPF_RETURN_IF_ERROR(failed);
    if (!found.has_value()) {
      return CorruptionError(
          fmt::format("audit trail: an index names position {}, which has no "
                      "entry",
                      position));
    }
    return *std::move(found);
  }

 private:
  const ReadView& view_;
  bool loaded_ = false;
  uint64_t bucket_ = 0;
  std::string block_;
};

}  // namespace

Status AuditTrailProjection::Load(const ReadView& stored) {
  return blocks_.Load(stored, KeyBytesOf);
}

Status AuditTrailProjection::ApplyOne(const SourcedRecord& sourced) {
  HPF_ASSIGN_OR_RETURN(const uint64_t bucket, blocks_.Note(sourced.position.value));
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  HPF_ASSIGN_OR_RETURN(const ledger::Date effective, internal::EffectiveDateOf(sourced));
  const std::string_view actor = Text(envelope.actor());
  if (actor.size() > kAuditActorBytesMax) {
    return RecordError(sourced, fmt::format("actor of {} bytes", actor.size()));
  }
  const uint64_t position = sourced.position.value;
  int64_t debits = 0;
  entities_.clear();
  entities_.emplace_back(envelope.stream_kind(), envelope.stream_id());
  const auto add_entity = [this](schema::EntityKind kind, uint64_t id) {
    if (kind == schema::EntityKind::None) return;
    const std::pair entity(kind, id);
    if (std::find(entities_.begin(), entities_.end(), entity) == entities_.end()) {
      entities_.push_back(entity);
    }
  };
  if (record.postings() != nullptr) {
    for (const schema::Posting* posting : *record.postings()) {
      if (posting->side() == schema::Side::Debit) debits += posting->amount_fen();
      add_entity(posting->subledger_kind(), posting->subledger_id());
    }
  }
  // What the payload names beyond the postings: a withdrawal's account (its review moves no
  // money) and the withdrawal that caused an interest to date or a closing.
  constexpr auto kAccount = schema::EntityKind::Account;
  switch (record.payload_type()) {
    case schema::Event::WithdrawalApplied:
      add_entity(kAccount, record.payload_as_WithdrawalApplied()->account_id());
      break;
    case schema::Event::WithdrawalApproved:
      add_entity(kAccount, record.payload_as_WithdrawalApproved()->account_id());
      break;
    case schema::Event::WithdrawalRejected:
      add_entity(kAccount, record.payload_as_WithdrawalRejected()->account_id());
      break;
    case schema::Event::WithdrawalPaid:
      add_entity(kAccount, record.payload_as_WithdrawalPaid()->account_id());
      break;
    case schema::Event::WithdrawalCancelled:
      add_entity(kAccount, record.payload_as_WithdrawalCancelled()->account_id());
      break;
    case schema::Event::InterestToDateCredited: {
      const auto* credited = record.payload_as_InterestToDateCredited();
      add_entity(credited->cause_kind(), credited->cause_id());
      break;
    }
    case schema::Event::AccountClosed: {
      const auto* closed = record.payload_as_AccountClosed();
      add_entity(closed->cause_kind(), closed->cause_id());
      break;
    }
    default:
      break;
  }
  // The entry.
  row_.clear();
  AppendKey64(row_, position);
  ValueWriter writer(row_);
  writer.U32(effective.yyyymmdd());
  writer.I64(envelope.link()->recorded_at_us());
  writer.U8(static_cast<uint8_t>(record.payload_type()));
  writer.U8(static_cast<uint8_t>(envelope.stream_kind()));
  writer.U64(envelope.stream_id());
  writer.U64(envelope.stream_version());
  writer.U16(envelope.command_part());
  writer.U16(envelope.command_parts());
  writer.I64(debits);
  writer.Text(actor);
  writer.Text(Text(envelope.channel()));
  writer.Text(Text(envelope.idempotency_key()));
  EntryBlockKey(key_, bucket);
  blocks_.Touch(bucket, key_).Add(row_, 8);
  // The indexes: the position alone, or (entity id, position).
  row_.clear();
  AppendKey64(row_, position);
  ActorPrefix(key_, actor);
  AppendKey64(key_, bucket);
  blocks_.Touch(bucket, key_).Add(row_, 8);
  DatePrefix(key_, effective.yyyymmdd());
  AppendKey64(key_, bucket);
  blocks_.Touch(bucket, key_).Add(row_, 8);
  for (const auto& [kind, id] : entities_) {
    row_.clear();
    AppendKey64(row_, id);
    AppendKey64(row_, position);
    EntityPrefix(key_, kind, id);
    AppendKey64(key_, bucket);
    blocks_.Touch(bucket, key_).Add(row_, 16);
  }
  return Status::Ok();
}

Status AuditTrailProjection::Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) {
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  return blocks_.Flush(out);
}

Result<Page<AuditEntry>> AuditTrail(const ReadView& view, const AuditQuery& query) {
  HPF_RETURN_IF_ERROR(CheckPageRequest(query.page));
  if (query.from.has_value() && query.to.has_value() && *query.from > *query.to) {
    return InvalidArgumentError(fmt::format("period from {} is after to {}",
                                            query.from->ToIsoString(), query.to->ToIsoString()));
  }
  if (query.actor.has_value() && query.actor->size() > kAuditActorBytesMax) {
    return InvalidArgumentError(fmt::format("actor of {} bytes is longer than {}",
                                            query.actor->size(), kAuditActorBytesMax));
  }
  // By date when the period is the only criterion: the order is (date, position).
  const bool by_date = !query.entity.has_value() && !query.actor.has_value() &&
                       (query.from.has_value() || query.to.has_value());
  uint32_t after_date = 0;
  uint64_t after_position = 0;
  if (!query.page.after.empty()) {
    HPF_ASSIGN_OR_RETURN(const std::vector<uint64_t> cursor,
                         ParseCursor(query.page.after, by_date ? 2 : 1));
    if (by_date) {
      if (cursor[0] > 0xffffffffu) return InvalidArgumentError("cursor: no such date");
      after_date = static_cast<uint32_t>(cursor[0]);
    }
    after_position = cursor.back();
  }
  Page<AuditEntry> result;
  bool more = false;
  Status failed = Status::Ok();
  EntryReader entries(view);
  // Takes an entry (a candidate position in the walk's order): false stops the walk.
  auto take = [&](uint64_t position) {
    auto entry = entries.Find(position);
    if (!entry.has_value()) {
      failed = entry.error();
      return false;
    }
    if (query.actor.has_value() && entry->actor != *query.actor) return true;
    if (query.from.has_value() && entry->effective_date < *query.from) return true;
    if (query.to.has_value() && entry->effective_date > *query.to) return true;
    if (result.items.size() == query.page.limit) {
      more = true;
      return false;
    }
    result.items.push_back(*std::move(entry));
    return true;
  };
  // Walks index blocks under `prefix` (keys: prefix + bucket), rows of `key_bytes` whose last
  // 8 bytes are the position and whose leading bytes, if any, must equal `id`.
  auto walk_index = [&](const std::string& prefix, size_t key_bytes, std::optional<uint64_t> id,
                        std::string_view start) {
    return view.Scan(prefix, start, [&](std::string_view key, std::string_view block) {
      if (key.size() != prefix.size() + 8) return true;  // another actor's longer key
      const Status visited =
          internal::VisitBlockRows(block, "audit index block", [&](std::string_view row) {
            uint64_t row_id = 0;
            uint64_t position = 0;
            if (row.size() != key_bytes || !ReadKey64(row, key_bytes - 8, &position) ||
                (id.has_value() && !ReadKey64(row, 0, &row_id))) {
              failed = CorruptionError("audit trail: malformed index row");
              return false;
            }
            if (id.has_value() && row_id != *id) return row_id < *id;
            if (position <= after_position) return true;
            return take(position);
          });
      if (!visited.ok()) failed = visited;
      return failed.ok() && !more;
    });
  };
  // Index blocks of buckets before the cursor's hold only earlier positions.
  auto start_for = [&](const std::string& prefix) {
    std::string start;
    if (after_position > 0 && BucketOf(after_position) > 0) {
      start = prefix;
      AppendKey64(start, BucketOf(after_position) - 1);
    }
    return start;
  };
  std::string prefix;
  if (query.entity.has_value()) {
    EntityPrefix(prefix, query.entity->kind, query.entity->id);
    HPF_RETURN_IF_ERROR(walk_index(prefix, 16, query.entity->id, start_for(prefix)));
  } else if (query.actor.has_value()) {
    ActorPrefix(prefix, *query.actor);
    HPF_RETURN_IF_ERROR(walk_index(prefix, 8, std::nullopt, start_for(prefix)));
  } else if (by_date) {
    // Day by day from the first day of the period (or the cursor's day). A day's blocks are
    // by bucket, so positions come in order within the day.
    std::string start;
    if (after_date != 0) {
      DatePrefix(start, after_date);
    } else if (query.from.has_value()) {
      DatePrefix(start, query.from->yyyymmdd());
    }
    const uint32_t last_day = query.to.has_value() ? query.to->yyyymmdd() : 0xffffffffu;
    HPF_RETURN_IF_ERROR(
        view.Scan(kDatePrefix, start, [&](std::string_view key, std::string_view block) {
          uint32_t day = 0;
          if (key.size() != kDatePrefix.size() + 4 + 8 ||
              !ReadKey32(key, kDatePrefix.size(), &day)) {
            failed = CorruptionError("audit trail: malformed date index key");
            return false;
          }
          if (day > last_day) return false;
          const Status visited =
              internal::VisitBlockRows(block, "audit date block", [&](std::string_view row) {
                uint64_t position = 0;
                if (row.size() != 8 || !ReadKey64(row, 0, &position)) {
                  failed = CorruptionError("audit trail: malformed index row");
                  return false;
                }
                if (day == after_date && position <= after_position) return true;
                return take(position);
              });
          if (!visited.ok()) failed = visited;
          return failed.ok() && !more;
        }));
  } else {
    std::string start;
    if (after_position > 0 && BucketOf(after_position) > 0) {
      EntryBlockKey(start, BucketOf(after_position) - 1);
    }
    HPF_RETURN_IF_ERROR(
        view.Scan(kEntryPrefix, start, [&](std::string_view, std::string_view block) {
          const Status visited =
              internal::VisitBlockRows(block, "audit block", [&](std::string_view row) {
                AuditEntry entry;
                failed = DecodeEntry(row, &entry);
                if (!failed.ok()) return false;
                if (entry.position <= after_position) return true;
                if (result.items.size() == query.page.limit) {
                  more = true;
                  return false;
                }
                result.items.push_back(std::move(entry));
                return true;
              });
          if (!visited.ok()) failed = visited;
          return failed.ok() && !more;
        }));
  }
  HPF_RETURN_IF_ERROR(failed);
  if (more) {
    const AuditEntry& last = result.items.back();
    result.next = by_date ? FormatCursor({last.effective_date.yyyymmdd(), last.position})
                          : FormatCursor({last.position});
  }
  return result;
}

}  // namespace hpf::projections::read_models
