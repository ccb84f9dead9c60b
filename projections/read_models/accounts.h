// projections/read_models/accounts.h — personal accounts (个人账户) as the centre's staff look
// them up: balance, status, contribution base, employer, paid-up-to month (缴至年月) and the
// 积数 accumulator of the open interest year, with the queries the HTTP server answers
// (GET /v1/accounts?employer=&status=, /v1/accounts/{id}).
//
// Folding. An account's row comes from the records of its own stream (record_encoding
// StreamOf: its lifecycle, contribution allocations, year-end interest, interest to date of a
// closing withdrawal, their reversals and its closing), so it depends only on that stream's
// order. What a withdrawal does to the account comes from the withdrawal's stream (applied,
// approved, rejected, paid, cancelled): per account, the withdrawals in flight (by id, each
// following its own stream) and the sum and count of those paid. The balance shown is the
// account stream's money less the sum paid: sums commute, so any interleaving of streams
// gives the same rows. A record whose stream version does not follow its stream's is
// kCorruption (a source that lost or reordered it).
//
// Interest. The open interest year is kept free of rates: its opening balance (counted every
// day) and the money applied to it by value date (the date it counts from: its effective
// date, or the year's first day for a date in a settled year, as ledger/state.h Evolve feeds
// the write model's accumulator), one entry per date. Rates enter only where a figure is
// made: a year-end credit or an interest to date is checked by rebuilding
// ledger::InterestAccumulator over the record's own segments (its 积数 must be the folded
// money's, its interest InterestOn() of them), and InterestAccrued() uses the rate table in
// force — the last PolicyChanged record's (its document parsed by ledger::ParsePolicy; the
// genesis's whole table, a later change's from its effective_from on), or the options' table
// before the log has one. The rows therefore never depend on when the policy stream was read.
//
// Paid-up-to month (缴至年月), as the write model keeps it (ledger/state.h): the month before
// the first contribution month at opening, or the employer's paid-up-to month if that is later
// (the account joins its employer's sequence; so does an unsealed account, from at least the
// month before its first month); each regular allocation sets it to its month; reversing the
// latest one steps it back one month while its remittance list is still open (the corrected
// line follows) and leaves it once the list is completed (the month is unpaid again and
// back-paid). What the employer's stream says (its paid-up-to month when the account joined, a
// list completed before a reversal) may come later from another source, so those steps are
// kept on the row as pending steps, in order, with the positions that settle them; the
// employer's paid-up-to months ("h/") and lists' completions ("c/") are stored as they come,
// and the queries replay the pending steps against them. The account's next regular allocation
// settles them for good. The model keeps the month and list of each account's last
// kRegularAllocationsKept regular allocations and up to kPendingStepsMax pending steps
// (limits.h).
//
// Stored form: "r/" + page (account id / kAccountsPerPage, u64 big-endian) → the page's rows;
// "w/" + page → the withdrawals of the page's accounts that have any; the list indexes
// "e/" + employer + status + page and "t/" + status + page → the ids of the page's accounts in
// that state; "q/" + policy version (u32) → the rate table in force from that version on
// (version 0: the options' table, written with the first batch). Rows are written once per
// batch per page touched, index pages only when an account's employer or status changes.
// Thread safety: the projection object belongs to the runtime's thread; the query functions
// read a ReadView and may run on any thread.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ledger/calendar.h"
#include "ledger/interest.h"
#include "ledger/money.h"
#include "projections/projection.h"
#include "projections/read_models/limits.h"
#include "projections/read_models/page.h"

namespace hpf::projections::read_models {

enum class AccountStatus : uint8_t {
  kNormal = 1,  // 正常
  kSealed = 2,  // 封存
  kClosed = 3,  // 销户
};

// "normal", "sealed", "closed"; Parse fails with kInvalidArgument for any other text.
std::string_view AccountStatusName(AccountStatus status);
Result<AccountStatus> ParseAccountStatus(std::string_view name);

// DOMAIN §3's rates, as ledger::PolicyBook::DefaultPersonalRates() ships them: 1.10 % from
// 1990-01-01, 1.50 % from 2016-02-21.
std::vector<ledger::RateSegment> DefaultPersonalRateTable();

struct AccountsOptions {
  // The dated rate table for personal accounts in force before the log's first PolicyChanged
  // record (a log without the ledger's policy genesis); the records' tables replace it.
  std::vector<ledger::RateSegment> personal_rate_table = DefaultPersonalRateTable();
};

// A withdrawal's state while it is in flight (applied or approved), as its stream tells it.
enum class WithdrawalStatus : uint8_t {
  kApplied = 1,   // waiting for a reviewer; nothing held
  kApproved = 2,  // its amount is held until paid or cancelled
};

// "applied", "approved".
std::string_view WithdrawalStatusName(WithdrawalStatus status);

class AccountsProjection final : public Projection {
 public:
  // kInvalidArgument unless the rate table passes ledger::ValidateRateTable and starts on or
  // before 1990-07-01 (the first interest year).
  static Result<std::unique_ptr<AccountsProjection>> Create(AccountsOptions options);

  std::string_view name() const override { return "accounts"; }
  uint32_t version() const override { return 2; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

  // Money applied to the open interest year from a day on (the day it counts from).
  struct InterestDelta {
    uint32_t date = 0;  // yyyymmdd
    int64_t fen = 0;
  };

  struct RegularAllocation {
    uint64_t position = 0;
    uint32_t month = 0;  // yyyymm
    uint64_t employer_id = 0;
    uint64_t remittance_id = 0;
  };
  // What may have changed the paid-up-to month since `paid_up_to_month` was set, replayed in
  // order by the queries.
  enum class StepKind : uint8_t {
    // The regular line of `month` in list (employer_id, remittance_id) was reversed at
    // `position`: the month steps back if it is `month` then and the list was not completed
    // before `position`.
    kReversal = 1,
    // An unsealing: the month becomes at least `month`.
    kAtLeast = 2,
    // The account joined employer_id at `position`: the month becomes at least the employer's
    // paid-up-to month as it stood then.
    kJoined = 3,
  };
  struct PendingStep {
    StepKind kind = StepKind::kReversal;
    uint32_t month = 0;  // yyyymm
    uint64_t employer_id = 0;
    uint64_t remittance_id = 0;
    uint64_t position = 0;
  };

  struct Row {
    uint64_t employer_id = 0;
    int64_t contribution_base_fen = 0;
    int64_t balance_fen = 0;            // the money of the account's own stream
    int64_t interest_credited_fen = 0;  // Σ year-end interest and interest to date, net
    uint32_t paid_up_to_month = 0;      // yyyymm
    uint32_t opened_date = 0;           // yyyymmdd
    uint64_t stream_version = 0;
    uint64_t last_position = 0;
    AccountStatus status = AccountStatus::kNormal;
    bool frozen = false;
    uint8_t regular_count = 0;  // valid entries of `regular`, oldest first
    std::array<RegularAllocation, kRegularAllocationsKept> regular{};
    uint8_t pending_count = 0;  // valid entries of `pending`, oldest first
    std::array<PendingStep, kPendingStepsMax> pending{};
    // The open interest year: its opening balance and its money by value date (ascending,
    // one entry per date, at most the year's days); opening + Σ deltas = balance_fen.
    int32_t interest_year = 0;  // its starting year
    int64_t interest_opening_fen = 0;
    std::vector<InterestDelta> interest_deltas;
    // Set by AccountClosed: its date, reason (schema AccountCloseReason), cause and record.
    uint32_t closed_date = 0;
    uint8_t close_reason = 0;
    uint8_t close_cause_kind = 0;  // schema EntityKind
    uint64_t close_cause_id = 0;
    uint64_t closed_position = 0;
    uint64_t touched_batch = 0;  // in memory only
  };

  // A withdrawal in flight, from its own stream.
  struct OpenWithdrawal {
    uint64_t withdrawal_id = 0;
    WithdrawalStatus status = WithdrawalStatus::kApplied;
    uint8_t reason = 0;      // schema WithdrawalReason
    int64_t amount_fen = 0;  // applied: requested; approved: held
    uint64_t stream_version = 0;
    uint64_t position = 0;  // its latest record
  };
  // What withdrawals did to one account; kept only for accounts with something in it.
  struct Withdrawals {
    int64_t paid_fen = 0;  // Σ WithdrawalPaid
    uint32_t paid_count = 0;
    std::vector<OpenWithdrawal> open;  // by withdrawal id
    uint64_t touched_batch = 0;        // in memory only
  };

 private:
  explicit AccountsProjection(AccountsOptions options) : options_(std::move(options)) {}

  Status ApplyOne(const SourcedRecord& sourced);
  Status ApplyWithdrawal(const SourcedRecord& sourced);
  Status ApplyPolicy(const SourcedRecord& sourced);
  Row* Touch(uint64_t account_id);
  Withdrawals& TouchWithdrawals(uint64_t account_id);
  void Flush(ProjectionWriter& out);

  struct Touched {
    uint64_t account_id = 0;
    bool existed = false;
    uint64_t employer_id = 0;
    AccountStatus status = AccountStatus::kNormal;
  };

  struct IndexPage {
    bool by_employer = false;
    uint64_t employer_id = 0;
    uint8_t status = 0;
    uint64_t page = 0;
    auto operator<=>(const IndexPage&) const = default;
  };

  AccountsOptions options_;
  std::unordered_map<uint64_t, Row> rows_;
  std::unordered_map<uint64_t, Withdrawals> withdrawals_;
  std::vector<uint64_t> withdrawal_pages_;  // touched this batch
  // The policy's rate tables: the last version folded, its table, and those to store.
  uint32_t policy_version_ = 0;
  bool policy_stored_ = false;  // "q/" holds at least version 0
  std::vector<ledger::RateSegment> rate_table_;
  std::vector<std::pair<uint32_t, std::vector<ledger::RateSegment>>> tables_to_store_;
  std::vector<IndexPage> index_pages_;
  // What this batch learnt of employers: lists completed and paid-up-to months, with positions.
  struct EmployerMark {
    uint64_t employer_id = 0;
    uint64_t remittance_id = 0;  // 0: not a list's completion
    uint32_t paid_up_to_month = 0;
    uint64_t position = 0;
  };
  std::vector<EmployerMark> employer_marks_;
  uint64_t batch_ = 0;
  std::vector<Touched> touched_;
  std::vector<uint64_t> pages_;
  std::string key_;
  std::string value_;
};

// The withdrawal in flight on an account (applied or approved).
struct WithdrawalInFlight {
  uint64_t withdrawal_id = 0;
  WithdrawalStatus status = WithdrawalStatus::kApplied;
  schema::WithdrawalReason reason = schema::WithdrawalReason::None;
  ledger::Fen amount;     // applied: the amount asked (a closing: the balance then); approved:
                          // the amount held
  uint64_t position = 0;  // its latest record
};

// Why and when an account was closed (销户).
struct AccountClosure {
  ledger::Date closed_on;
  schema::AccountCloseReason reason = schema::AccountCloseReason::None;
  schema::EntityKind cause_kind = schema::EntityKind::None;  // Withdrawal for a closing one
  uint64_t cause_id = 0;                                     // 0: closed with nothing in it
  uint64_t position = 0;                                     // the AccountClosed record
};

struct AccountSummary {
  uint64_t account_id = 0;
  uint64_t employer_id = 0;
  AccountStatus status = AccountStatus::kNormal;
  bool frozen = false;  // 冻结 by a court order
  ledger::Fen contribution_base;
  ledger::Fen balance;             // after every record applied, withdrawals paid included
  ledger::Fen held;                // approved withdrawals not yet paid
  ledger::Month paid_up_to_month;  // pending steps settled against the lists' completions
  ledger::Date opened_on;
  ledger::InterestYear interest_year;  // the open (unsettled) interest year
  ledger::Fen interest_credited;       // Σ interest credited: year-end and to date
  uint64_t last_position = 0;          // the latest record of the account's stream
  // The withdrawal in flight (the ledger allows one at a time; the lowest id if a source
  // delivered another one's application before this one's end).
  std::optional<WithdrawalInFlight> withdrawal_in_flight;
  ledger::Fen withdrawn;  // Σ withdrawals paid
  uint32_t withdrawals_paid = 0;
  std::optional<AccountClosure> closure;  // set once closed
};

// One account; empty if the account was never opened. kCorruption if its page does not decode.
Result<std::optional<AccountSummary>> GetAccount(const ReadView& view, uint64_t account_id);

struct AccountFilter {
  std::optional<uint64_t> employer_id;  // accounts attached to it (a sealed account stays)
  std::optional<AccountStatus> status;
};

// Accounts matching `filter`, by account id. kInvalidArgument for a bad page request or a
// cursor this query did not return.
Result<Page<AccountSummary>> ListAccounts(const ReadView& view, const AccountFilter& filter,
                                          const PageRequest& page);

// Interest on the account from the first day of its open interest year up to `until`
// (exclusive, 算头不算尾): ledger::InterestToDate on the stored accumulator, the figure a
// closing withdrawal paid on `until` would carry.
struct AccruedInterest {
  uint64_t account_id = 0;
  ledger::InterestYear interest_year;
  ledger::Date from;   // the year's first day
  ledger::Date until;  // exclusive
  ledger::DayBasis day_basis = ledger::DayBasis::k360;
  std::vector<ledger::InterestSegment> segments;  // the 积数 of [from, until) by rate
  ledger::FenDays fen_days;                       // Σ segments
  ledger::Fen interest;
  ledger::Fen balance;  // the account's balance now
};

// The rates are the table in force at the view's position (the last PolicyChanged folded).
// kNotFound if the account was never opened; kFailedPrecondition if it is closed (it has no
// open year: its interest to date was credited when it was paid out), if `until` lies outside
// [first day, credit value date] of the open year (earlier years are settled; later ones need
// this one settled first) or if money is value-dated after `until` (the ledger pays no
// closing withdrawal before money it holds is value-dated, so neither is the figure given).
Result<AccruedInterest> InterestAccrued(const ReadView& view, uint64_t account_id,
                                        ledger::Date until, ledger::DayBasis day_basis);

}  // namespace hpf::projections::read_models
