// ledger/policy.cc
#include "ledger/policy.h"

#include <algorithm>

namespace hpf::ledger {

PolicyBook::PolicyBook(std::vector<Policy> versions) : versions_(std::move(versions)) {
  HPF_ASSERT(!versions_.empty());
  for (size_t i = 1; i < versions_.size(); ++i) {
    HPF_ASSERT(versions_[i - 1].effective_from < versions_[i].effective_from);
  }
  personal_rate_table_ = {
      {Date::FromYyyymmdd(19900101).value(), RatePpm{11'000}},
      {Date::FromYyyymmdd(20160221).value(), RatePpm{15'000}},
  };
  HPF_ASSERT(ValidateRateTable(personal_rate_table_).ok());
}

const Policy& PolicyBook::At(Date date) const {
  auto after = std::upper_bound(versions_.begin(), versions_.end(), date,
                                [](Date d, const Policy& p) { return d < p.effective_from; });
  return after == versions_.begin() ? versions_.front() : *(after - 1);
}

PolicyBook DefaultPolicy() {
  Policy policy;
  policy.effective_from = Date::FromYyyymmdd(19900101).value();
  policy.deferral_last_month = Month::FromYyyymm(202212).value();
  return PolicyBook({policy});
}

}  // namespace hpf::ledger
