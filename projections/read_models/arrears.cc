// projections/read_models/arrears.cc
#include "projections/read_models/arrears.h"

#include <algorithm>

namespace hpf::projections::read_models {

Arrears ArrearsAsOf(const ArrearsBasis& basis, ledger::Date as_of) {
  Arrears arrears;
  if (basis.closed) return arrears;
  const ledger::Month as_of_month = ledger::MonthOf(as_of);
  ledger::Month end = as_of_month;  // first month NOT due
  if (basis.sealed_on.has_value()) end = std::min(end, ledger::MonthOf(*basis.sealed_on));
  if (ledger::MonthsBetween(basis.paid_up_to_month, end) <= 1) return arrears;
  arrears.last_due_month = end.Prev();
  for (ledger::Month month = basis.paid_up_to_month.Next(); month < end; month = month.Next()) {
    const auto deferral =
        std::find_if(basis.deferrals.begin(), basis.deferrals.end(), [month](const auto& grant) {
          return grant.from_month <= month && month <= grant.to_month;
        });
    if (deferral != basis.deferrals.end()) {
      if (std::find(arrears.deferral_positions.begin(), arrears.deferral_positions.end(),
                    deferral->position) == arrears.deferral_positions.end()) {
        arrears.deferral_positions.push_back(deferral->position);
      }
      continue;
    }
    if (!arrears.first_unpaid_month.has_value()) arrears.first_unpaid_month = month;
    ++arrears.months_count;
  }
  std::sort(arrears.deferral_positions.begin(), arrears.deferral_positions.end());
  return arrears;
}

}  // namespace hpf::projections::read_models
