// tests/support/ledger_commands.h — valid sample commands for write-model tests: one
// employer at 12 % / 12 % from 2022-07, one account on an 8 000.00-yuan base.
#pragma once

#include "ledger/commands.h"

namespace hpf::testing {

inline ledger::RegisterEmployer SampleEmployer(ledger::EmployerId id) {
  return ledger::RegisterEmployer{.employer = id,
                                  .unified_social_credit_code = "91370200MA3C5X0F2K",
                                  .name = "Acme Machinery Co.",
                                  .bank_code = "ICBC",
                                  .employer_rate = ledger::RatePpm{120'000},
                                  .employee_rate = ledger::RatePpm{120'000},
                                  .first_contribution_month = 202207};
}

inline ledger::OpenAccount SampleAccount(ledger::AccountId account, ledger::EmployerId employer) {
  return ledger::OpenAccount{.account = account,
                             .employer = employer,
                             .person_id = account.value,
                             .contribution_base = ledger::Fen{800'000},
                             .first_contribution_month = 202207};
}

}  // namespace hpf::testing
