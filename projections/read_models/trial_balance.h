// projections/read_models/trial_balance.h — the trial balance (试算平衡表) on the chart of
// accounts of DOMAIN §7: for every general-ledger code posted, the debit and credit totals of
// all postings in the log. Every record balances, so the totals do: Σ debits = Σ credits.
//
// Stored form (keys within the projection's space): "g/" + code (u32 big-endian) → debit total,
// credit total, postings count (u64 little-endian each). Sums commute, so any interleaving of
// streams stores the same bytes.
// Thread safety: the projection object belongs to the runtime's thread; ReadTrialBalance()
// reads a ReadView and may run on any thread.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string_view>
#include <vector>

#include "ledger/money.h"
#include "projections/projection.h"

namespace hpf::projections::read_models {

enum class NormalSide : uint8_t { kDebit = 0, kCredit = 1 };

// The chart entry of a code (DOMAIN §7): its name and normal side; "" and kDebit for a code
// outside the chart.
std::string_view GlAccountName(uint32_t gl_account);
NormalSide GlAccountNormalSide(uint32_t gl_account);

class TrialBalanceProjection final : public Projection {
 public:
  std::string_view name() const override { return "trial-balance"; }
  uint32_t version() const override { return 1; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

 private:
  struct Totals {
    int64_t debit_fen = 0;
    int64_t credit_fen = 0;
    uint64_t postings_count = 0;
    bool dirty = false;
  };
  std::map<uint32_t, Totals> accounts_;
  std::vector<uint32_t> dirty_;
  std::string key_;
  std::string value_;
};

struct TrialBalanceLine {
  uint32_t gl_account = 0;
  std::string_view name;  // GlAccountName()
  NormalSide normal_side = NormalSide::kDebit;
  ledger::Fen debit;
  ledger::Fen credit;
  ledger::Fen balance;  // debit − credit: assets positive, liabilities and income negative
  uint64_t postings_count = 0;
};

struct TrialBalance {
  std::vector<TrialBalanceLine> lines;  // by code
  ledger::Fen debit_total;
  ledger::Fen credit_total;  // equals debit_total
};

// The whole trial balance. kCorruption if a stored value does not decode.
Result<TrialBalance> ReadTrialBalance(const ReadView& view);

}  // namespace hpf::projections::read_models
