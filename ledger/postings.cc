// ledger/postings.cc
#include "ledger/postings.h"

#include "events/assert.h"

namespace hpf::ledger {

std::pair<Posting, Posting> Transfer(Leg debit, Leg credit, Fen amount) {
  HPF_ASSERT(amount > Fen{0});
  return {
      Posting{debit.gl_account, PostingSide::kDebit, debit.subledger, debit.subledger_id, amount},
      Posting{credit.gl_account, PostingSide::kCredit, credit.subledger, credit.subledger_id,
              amount}};
}

bool Balanced(std::span<const Posting> postings) {
  Fen debits;
  Fen credits;
  for (const Posting& posting : postings) {
    if (posting.amount <= Fen{0}) return false;
    (posting.side == PostingSide::kDebit ? debits : credits) += posting.amount;
  }
  return debits == credits;
}

void TrialBalance::Post(std::span<const Posting> postings) {
  for (const Posting& posting : postings) {
    Fen& balance = balances_[{posting.gl_account, posting.subledger_id}];
    balance += posting.side == PostingSide::kDebit ? posting.amount : -posting.amount;
  }
}

Fen TrialBalance::Total(GlAccount account) const {
  Fen total;
  for (auto it = balances_.lower_bound({account, 0});
       it != balances_.end() && it->first.first == account; ++it) {
    total += it->second;
  }
  return total;
}

Fen TrialBalance::Balance(GlAccount account, uint64_t subledger_id) const {
  auto it = balances_.find({account, subledger_id});
  return it == balances_.end() ? Fen{} : it->second;
}

Fen TrialBalance::Sum() const {
  Fen sum;
  for (const auto& [key, balance] : balances_) sum += balance;
  return sum;
}

}  // namespace hpf::ledger
