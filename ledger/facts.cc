// ledger/facts.cc
#include "ledger/facts.h"

#include <type_traits>

namespace hpf::ledger {

std::vector<Posting> PostingsOf(const Fact& fact) {
  if (const auto* reversed = std::get_if<RecordReversed>(&fact)) {
    // The original's postings with debit and credit swapped.
    std::vector<Posting> postings =
        std::visit([](const auto& original) { return PostingsOf(Fact(original)); },
                   *reversed->terms.target->original);
    for (Posting& posting : postings) {
      posting.side =
          posting.side == PostingSide::kDebit ? PostingSide::kCredit : PostingSide::kDebit;
    }
    return postings;
  }
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
          // DOMAIN §7 keeps 41101 without a sub-ledger (schemas/events.fbs: None, id 0); the
          // account credited is the 201 line's.
          auto [debit, credit] = Transfer(
              {GlAccount::kInterestToPersonal, Subledger::kNone, 0},
              {GlAccount::kPersonalAccounts, Subledger::kAccount, f.account.value}, f.interest);
          return {debit, credit};
        } else if constexpr (std::is_same_v<F, InterestToDateCredited>) {
          if (f.interest == Fen{0}) return {};
          auto [debit, credit] = Transfer(
              {GlAccount::kInterestToPersonal, Subledger::kNone, 0},
              {GlAccount::kPersonalAccounts, Subledger::kAccount, f.account.value}, f.interest);
          return {debit, credit};
        } else if constexpr (std::is_same_v<F, WithdrawalPaid>) {
          if (f.amount == Fen{0}) return {};  // a closing withdrawal of an empty account
          auto [debit, credit] =
              Transfer({GlAccount::kPersonalAccounts, Subledger::kAccount, f.account.value},
                       {GlAccount::kFundDeposits, Subledger::kDeposit, f.deposit_id}, f.amount);
          return {debit, credit};
        } else {
          return {};
        }
      },
      fact);
}

}  // namespace hpf::ledger
