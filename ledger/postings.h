// ledger/postings.h — double entry on the HPF chart of accounts (DOMAIN §7).
//
// Every money fact carries its postings; Σ debits = Σ credits per fact, every amount > 0.
// The same structure lands in the record (schemas/common.fbs Posting), so the general ledger
// can be rebuilt from the log and checked by any reader.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <utility>

#include "ledger/money.h"

namespace hpf::ledger {

// General-ledger accounts, as centres number them (DOMAIN §7).
enum class GlAccount : uint32_t {
  kFundDeposits = 101,          // 住房公积金存款 (sub: deposit id)
  kPersonalAccounts = 201,      // 住房公积金 (sub: personal account id)
  kSuspense = 219,              // 其他应付款 — employer suspense 暂收 (sub: employer id)
  kInterestToPersonal = 41101,  // 业务支出 — interest to personal accounts
};

enum class PostingSide : uint8_t { kDebit = 0, kCredit = 1 };  // = schema Side

// What a sub-ledger id names; values = schema EntityKind. Only the accounts DOMAIN §7 keeps
// per entity have one (101 per deposit, 201 per account, 219 per employer, and loans'); every
// other code is posted with kNone and id 0 (schemas/events.fbs).
enum class Subledger : uint8_t {
  kNone = 0,
  kAccount = 1,
  kEmployer = 2,
  kDeposit = 4,
  kFund = 5,
};

struct Posting {
  GlAccount gl_account;
  PostingSide side;
  Subledger subledger;
  uint64_t subledger_id = 0;
  Fen amount;  // > 0
  bool operator==(const Posting&) const = default;
};

// Debit `debit` and credit `credit` with the same positive amount.
struct Leg {
  GlAccount gl_account;
  Subledger subledger;
  uint64_t subledger_id;
};
std::pair<Posting, Posting> Transfer(Leg debit, Leg credit, Fen amount);

// True when every amount is > 0 and Σ debits == Σ credits.
bool Balanced(std::span<const Posting> postings);

// Running balances per (GL account, sub-ledger): the trial balance of everything posted.
// Balances are signed debit-positive: an asset account (101) shows positive, a liability
// (201, 219) negative; the whole book always sums to zero.
class TrialBalance {
 public:
  void Post(std::span<const Posting> postings);
  // Σ of one GL account over all its sub-ledgers (debit-positive).
  Fen Total(GlAccount account) const;
  // One sub-ledger's balance (debit-positive).
  Fen Balance(GlAccount account, uint64_t subledger_id) const;
  // Σ of everything: zero whenever only balanced postings were posted.
  Fen Sum() const;

 private:
  std::map<std::pair<GlAccount, uint64_t>, Fen> balances_;
};

}  // namespace hpf::ledger
