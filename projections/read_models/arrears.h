// projections/read_models/arrears.h — months an employer is in arrears (欠缴) as of a date,
// from its paid-up-to month (缴至年月), its deferrals (缓缴) and whether it was sealed.
// The employers model shows the count; the 催缴 alert lists employers at 3 months or more.
//
// A month is due once it has ended: as of a date, the months after the paid-up-to month up
// to the month before the date's month. A deferral's months are not due (DOMAIN §2: they are
// back-paid later). A sealed employer stops contributing: months from the one it was sealed
// in are not due. A closed employer owes nothing here.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "ledger/calendar.h"

namespace hpf::projections::read_models {

// A 缓缴 grant: from_month .. to_month inclusive, granted by the record at `position`.
struct DeferralGrant {
  ledger::Month from_month;
  ledger::Month to_month;
  uint64_t position = 0;
  bool operator==(const DeferralGrant&) const = default;
};

struct ArrearsBasis {
  ledger::Month paid_up_to_month;
  std::optional<ledger::Date> sealed_on;  // set while the employer is sealed
  bool closed = false;
  std::span<const DeferralGrant> deferrals;
};

struct Arrears {
  uint32_t months_count = 0;  // months due and unpaid
  std::optional<ledger::Month> first_unpaid_month;
  std::optional<ledger::Month> last_due_month;  // the last month due as of the date
  std::vector<uint64_t> deferral_positions;     // grants that excused a month up to it
};

Arrears ArrearsAsOf(const ArrearsBasis& basis, ledger::Date as_of);

}  // namespace hpf::projections::read_models
