// projections/read_models/statements.h — statements (对账单) of personal accounts: one line per
// record that moves an account's money (allocation, year-end interest, interest to date,
// withdrawal paid, reversal), with the running balance after it, for
// GET /v1/accounts/{id}/statement?from=&to=.
//
// Lines follow the account's own stream (ledger/record_encoding StreamOf), so their stored
// running balances depend only on the stream's order. A withdrawal's payment (WithdrawalPaid,
// business type 12 销户提取 or 11) is on the withdrawal's stream: its line is stored with its
// amount only, and the account is marked as having such lines ("x/"); the query then sums the
// running balance itself over the account's lines in position order, from its first — the
// log's order, whatever order the streams were folded in. Any other 201 posting off its
// account's stream is kCorruption until transfers bring their ordering (TODO(part 2)).
//
// Stored form: lines are packed into blocks "l/" + account page (u64) + position bucket (u64)
// (internal/blocks.h), each block's lines ordered by (account, position): a month-end batch
// writes one block per page of accounts, not one key per line. "b/" + page → the running
// balances of the page's accounts (their own streams' money), for Load(). "x/" + account → the
// count of its lines off its stream. "o/" + bucket lists an unfinished bucket's blocks.
// Thread safety: the projection object belongs to the runtime's thread; Statement() reads a
// ReadView and may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ledger/calendar.h"
#include "ledger/money.h"
#include "projections/projection.h"
#include "projections/read_models/internal/blocks.h"
#include "projections/read_models/page.h"

namespace hpf::projections::read_models {

class StatementsProjection final : public Projection {
 public:
  StatementsProjection() : blocks_("o/") {}
  std::string_view name() const override { return "statements"; }
  uint32_t version() const override { return 2; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

 private:
  Status ApplyOne(const SourcedRecord& sourced);

  struct Balance {
    int64_t balance_fen = 0;
    uint64_t touched_batch = 0;
  };
  internal::BucketedBlocks blocks_;
  std::unordered_map<uint64_t, Balance> balances_;
  std::unordered_map<uint64_t, uint32_t> off_stream_;  // lines off the account's stream
  std::unordered_map<uint64_t, uint64_t> off_stream_touched_batch_;  // in memory only
  std::vector<uint64_t> off_stream_touched_;
  uint64_t batch_ = 0;
  std::vector<uint64_t> pages_;
  std::string key_;
  std::string row_;
};

struct StatementLine {
  uint64_t position = 0;
  ledger::Date effective_date;  // the value date
  int64_t recorded_at_us = 0;   // when the log committed it (UTC µs)
  std::string_view event_type;  // "ContributionAllocated", "RecordReversed", ...
  uint8_t business_type = 0;    // data-standard code (01, 02, 09, 11, 12), 0 if none
  std::optional<ledger::Month> contribution_month;  // for an allocation
  uint64_t reversed_position = 0;                   // for a reversal: the line it negates
  uint64_t withdrawal_id = 0;  // a payment's, or the withdrawal an interest to date paid with
  bool off_stream = false;     // on the withdrawal's stream (a payment), not the account's
  ledger::Fen amount;          // + credit to the account, − debit
  ledger::Fen balance;         // the account's balance after this line
};

struct StatementRequest {
  uint64_t account_id = 0;
  std::optional<ledger::Date> from;  // lines value-dated on or after (inclusive)
  std::optional<ledger::Date> to;    // lines value-dated on or before (inclusive)
  PageRequest page;
};

// The account's lines in log order whose value date is within [from, to]; each line's balance
// is the running balance in log order (a back-dated line shows the balance after it was
// booked; a withdrawal's payment, after the lines before its position). kInvalidArgument for from >
// to or a bad page request; an account without lines gives an empty page.
Result<Page<StatementLine>> Statement(const ReadView& view, const StatementRequest& request);

}  // namespace hpf::projections::read_models
