// projections/read_models/internal/record_fields.h — what the read models read from a record
// beyond its FlatBuffers accessors: dates and months checked (a verified record is well-formed
// FlatBuffers, not necessarily a meaningful date), postings summed, errors that name the record.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

#include "events/status.h"
#include "ledger/calendar.h"
#include "projections/projection.h"

namespace hpf::projections::read_models::internal {

// Chart codes (DOMAIN §7) the read models single out.
inline constexpr uint32_t kGlFundDeposits = 101;
inline constexpr uint32_t kGlPersonalAccounts = 201;
inline constexpr uint32_t kGlSuspense = 219;
inline constexpr uint32_t kGlInterestToPersonal = 41101;

// kCorruption: "record at position N (EventType): problem".
Status RecordError(const SourcedRecord& record, std::string_view problem);

// The envelope's effective date, or kCorruption if it is not a valid date.
Result<ledger::Date> EffectiveDateOf(const SourcedRecord& record);

// A yyyymm field of the payload, or kCorruption naming `field`.
Result<ledger::Month> MonthField(const SourcedRecord& record, uint32_t yyyymm,
                                 std::string_view field);
// A yyyymmdd field of the payload, or kCorruption naming `field`.
Result<ledger::Date> DateField(const SourcedRecord& record, uint32_t yyyymmdd,
                               std::string_view field);

// Σ credits − Σ debits of the record's postings to `gl_account` on sub-ledger (kind, id).
int64_t NetCredit(const schema::Record& record, uint32_t gl_account, schema::EntityKind kind,
                  uint64_t id);
// Whether any posting of the record is to `gl_account`.
bool HasPostingTo(const schema::Record& record, uint32_t gl_account);

}  // namespace hpf::projections::read_models::internal
