// ledger/facts.cc
#include "ledger/facts.h"

#include <type_traits>

namespace hpf::ledger {

std::vector<Posting> PostingsOf(const Fact& fact) {
  return std::visit(
      [](const auto& f) -> std::vector<Posting> {
        using F = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<F, BankReceiptRecorded>) {
          auto [debit, credit] = Transfer(
              {GlAccount::kFundDeposits, Subledger::kDeposit, f.terms.deposit_id},
              {GlAccount::kSuspense, Subledger::kEmployer, f.terms.employer.value}, f.terms.amount);
          return {debit, credit};
        } else if constexpr (std::is_same_v<F, ContributionAllocated>) {
          auto [debit, credit] =
              Transfer({GlAccount::kSuspense, Subledger::kEmployer, f.employer.value},
                       {GlAccount::kPersonalAccounts, Subledger::kAccount, f.account.value},
                       f.employer_amount + f.employee_amount);
          return {debit, credit};
        } else if constexpr (std::is_same_v<F, YearEndInterestCredited>) {
          if (f.interest == Fen{0}) return {};
          auto [debit, credit] = Transfer(
              {GlAccount::kInterestToPersonal, Subledger::kFund, 0},
              {GlAccount::kPersonalAccounts, Subledger::kAccount, f.account.value}, f.interest);
          return {debit, credit};
        } else {
          return {};
        }
      },
      fact);
}

}  // namespace hpf::ledger
