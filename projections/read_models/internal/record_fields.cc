// projections/read_models/internal/record_fields.cc
#include "projections/read_models/internal/record_fields.h"

#include <fmt/core.h>

namespace hpf::projections::read_models::internal {

Status RecordError(const SourcedRecord& record, std::string_view problem) {
  return CorruptionError(fmt::format("record at position {} ({}): {}", record.position.value,
                                     events::EventTypeName(record.record->payload_type()),
                                     problem));
}

Result<ledger::Date> EffectiveDateOf(const SourcedRecord& record) {
  return DateField(record, record.record->envelope()->effective_date(), "effective date");
}

Result<ledger::Month> MonthField(const SourcedRecord& record, uint32_t yyyymm,
                                 std::string_view field) {
  auto month = ledger::Month::FromYyyymm(yyyymm);
  if (!month.has_value()) {
    return RecordError(record, fmt::format("{}: {}", field, month.error().message()));
  }
  return *month;
}

Result<ledger::Date> DateField(const SourcedRecord& record, uint32_t yyyymmdd,
                               std::string_view field) {
  auto date = ledger::Date::FromYyyymmdd(yyyymmdd);
  if (!date.has_value()) {
    return RecordError(record, fmt::format("{}: {}", field, date.error().message()));
  }
  return *date;
}

int64_t NetCredit(const schema::Record& record, uint32_t gl_account, schema::EntityKind kind,
                  uint64_t id) {
  int64_t net = 0;
  if (record.postings() == nullptr) return net;
  for (const schema::Posting* posting : *record.postings()) {
    if (posting->gl_account() != gl_account || posting->subledger_kind() != kind ||
        posting->subledger_id() != id) {
      continue;
    }
    net += posting->side() == schema::Side::Credit ? posting->amount_fen() : -posting->amount_fen();
  }
  return net;
}

bool HasPostingTo(const schema::Record& record, uint32_t gl_account) {
  if (record.postings() == nullptr) return false;
  for (const schema::Posting* posting : *record.postings()) {
    if (posting->gl_account() == gl_account) return true;
  }
  return false;
}

}  // namespace hpf::projections::read_models::internal
