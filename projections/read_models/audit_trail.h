// projections/read_models/audit_trail.h — the audit trail (审计轨迹): who recorded what, when,
// through which channel, for GET /v1/audit/trail?actor=&account=&from=&to=. One entry per
// record: position, event type, stream, actor, channel, idempotency key, effective date,
// commit time and the money it moved.
//
// Stored form (internal/blocks.h): entries are packed by position bucket into "g/" + bucket
// (ordered by position); three indexes of positions point into them, each packed by bucket
// too: "a/" + actor + bucket, "e/" + entity kind + id (a page of ids for personal accounts) +
// bucket (an entity is the record's stream, every sub-ledger its postings name and what its
// payload names besides: an allocation is found under its account and under its employer, a
// withdrawal's records under the withdrawal and its account, an interest to date and a
// closing under the account and the withdrawal that caused them), and "d/" + effective date
// + bucket. A block's bytes depend only on the
// records in it, so any interleaving of streams stores the same bytes.
// Thread safety: the projection object belongs to the runtime's thread; AuditTrail() reads a
// ReadView and may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/calendar.h"
#include "ledger/money.h"
#include "projections/projection.h"
#include "projections/read_models/internal/blocks.h"
#include "projections/read_models/page.h"

namespace hpf::projections::read_models {

// Actors longer than this are refused as corrupt records (the ledger allows 128 bytes).
inline constexpr size_t kAuditActorBytesMax = 255;

class AuditTrailProjection final : public Projection {
 public:
  AuditTrailProjection() : blocks_("o/") {}
  std::string_view name() const override { return "audit-trail"; }
  uint32_t version() const override { return 2; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

 private:
  Status ApplyOne(const SourcedRecord& sourced);

  internal::BucketedBlocks blocks_;
  std::string key_;
  std::string row_;
  std::vector<std::pair<schema::EntityKind, uint64_t>> entities_;
};

struct AuditEntity {
  schema::EntityKind kind = schema::EntityKind::Account;
  uint64_t id = 0;
};

struct AuditQuery {
  std::optional<std::string_view> actor;
  std::optional<AuditEntity> entity;  // e.g. a personal account
  std::optional<ledger::Date> from;   // effective date, inclusive
  std::optional<ledger::Date> to;     // effective date, inclusive
  PageRequest page;
};

struct AuditEntry {
  uint64_t position = 0;
  std::string_view event_type;  // the schema table's name
  schema::EntityKind stream_kind = schema::EntityKind::None;
  uint64_t stream_id = 0;
  uint64_t stream_version = 0;
  std::string actor;
  std::string channel;
  std::string idempotency_key;
  uint16_t command_part = 0;
  uint16_t command_parts = 1;
  ledger::Date effective_date;
  int64_t recorded_at_us = 0;  // commit time, UTC µs
  ledger::Fen debits;          // Σ debit postings: the money the record moved
};

// Entries matching every criterion given. With an entity or an actor they come in position
// order; with only a period, by effective date then position; with nothing, every record in
// position order. kInvalidArgument for from > to, a bad page request or a foreign cursor.
Result<Page<AuditEntry>> AuditTrail(const ReadView& view, const AuditQuery& query);

}  // namespace hpf::projections::read_models
