// projections/read_models/fund_summary.h — the fund as a whole (GET /v1/fund/summary?as_of=):
// paying employers and employees, contributions and back-payments (补缴) in a period,
// withdrawals by reason, the personal-account total (201), suspense (219), interest credited
// (year-end and to date) and accounts closed — the figures of the annual report that the
// write model has today (DOMAIN §6).
//
// Folding. Every figure is a sum or a count per effective date (the record's value date; a
// reversal carries the reversed record's), so a summary as of a date adds the days up to it,
// and sums commute across any interleaving of streams. "Paying" counts employers and accounts
// in state normal (正常缴存) on the date: each opening, sealing, unsealing, reopening or
// closing adds or removes one on its effective date; "closed" counts accounts closed (销户) by
// the date the same way. Withdrawals are the payments (WithdrawalPaid) by the reason they
// carry, on their effective date. A reversed allocation is taken out of the
// contributions of its day, and of the back-payments when it was one (the model keeps the
// positions of live back-payment lines: ~1 % of lines).
//
// Stored form: "d/" + yyyymmdd (u32) → that day's totals; "p/" + bucket (u64) → the live
// back-payment positions of a position bucket; "s/" + account and "m/" + employer → its state
// (for Load(); written only when it changes).
// Thread safety: the projection object belongs to the runtime's thread; ReadFundSummary()
// reads a ReadView and may run on any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ledger/calendar.h"
#include "ledger/money.h"
#include "projections/projection.h"

namespace hpf::projections::read_models {

class FundSummaryProjection final : public Projection {
 public:
  std::string_view name() const override { return "fund-summary"; }
  uint32_t version() const override { return 2; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

  // Withdrawals paid for one reason (schema WithdrawalReason code).
  struct ReasonFlow {
    uint8_t reason = 0;
    int64_t count = 0;
    int64_t amount_fen = 0;
    bool operator==(const ReasonFlow&) const = default;
  };
  // One effective date's changes.
  struct Day {
    int64_t contributions_fen = 0;  // allocated to personal accounts (汇缴 and 补缴)
    int64_t contributions_count = 0;
    int64_t back_payments_fen = 0;  // of which 补缴
    int64_t back_payments_count = 0;
    int64_t receipts_fen = 0;             // received into suspense from employers
    int64_t interest_credited_fen = 0;    // 41101: interest credited to personal accounts
    int64_t personal_accounts_fen = 0;    // 201, credit-positive
    int64_t suspense_fen = 0;             // 219, credit-positive
    int64_t employers_paying = 0;         // employers entering (+) or leaving (−) state normal
    int64_t accounts_paying = 0;          // accounts entering (+) or leaving (−) state normal
    int64_t interest_to_date_fen = 0;     // of interest_credited: closing withdrawals' to date
    int64_t accounts_closed = 0;          // accounts closed (销户) that day
    std::vector<ReasonFlow> withdrawals;  // paid that day, by reason code ascending
    bool dirty = false;                   // in memory only
  };

 private:
  Status ApplyOne(const SourcedRecord& sourced);
  Day& DayOf(uint32_t yyyymmdd);
  void SetState(std::unordered_map<uint64_t, uint8_t>& states, std::vector<uint64_t>& touched,
                uint64_t id, uint8_t state);

  std::map<uint32_t, Day> days_;
  std::vector<uint32_t> dirty_days_;
  std::set<uint64_t> back_payments_;                       // live back-payment lines, by position
  std::vector<uint64_t> dirty_buckets_;                    // of back_payments_
  std::unordered_map<uint64_t, uint8_t> account_states_;   // 1 normal, 2 sealed, 3 closed
  std::unordered_map<uint64_t, uint8_t> employer_states_;  // 1 normal, 2 sealed, 3 closed
  std::vector<uint64_t> touched_accounts_;
  std::vector<uint64_t> touched_employers_;
  std::string key_;
  std::string value_;
};

struct FundSummaryRequest {
  ledger::Date as_of;  // balances and paying counts at the end of this day
  ledger::Date from;   // the period of the flows, inclusive
  ledger::Date to;
};

struct FundSummary {
  ledger::Date as_of;
  ledger::Date from;
  ledger::Date to;
  int64_t paying_employers = 0;
  int64_t paying_employees = 0;  // personal accounts in state normal
  ledger::Fen contributions;     // in [from, to], net of reversals, back-payments included
  int64_t contributions_count = 0;
  ledger::Fen back_payments;
  int64_t back_payments_count = 0;
  ledger::Fen receipts;           // in [from, to]: money employers paid into suspense
  ledger::Fen interest_credited;  // in [from, to]: year-end and to date (Dr 41101)
  ledger::Fen interest_to_date;   // of which: interest to date paid with closing withdrawals
  ledger::Fen withdrawals;        // in [from, to]: paid (提取), every reason
  int64_t withdrawals_count = 0;
  struct ByReason {
    schema::WithdrawalReason reason = schema::WithdrawalReason::None;
    int64_t count = 0;
    ledger::Fen amount;
  };
  std::vector<ByReason> withdrawals_by_reason;  // reasons with a payment, by code
  ledger::Fen personal_accounts;                // as of as_of: Σ 201
  ledger::Fen suspense;                         // as of as_of: Σ 219
  int64_t closed_accounts = 0;                  // as of as_of: accounts closed (销户) so far
};

// kInvalidArgument if from > to.
Result<FundSummary> ReadFundSummary(const ReadView& view, const FundSummaryRequest& request);

}  // namespace hpf::projections::read_models
