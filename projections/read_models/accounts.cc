// projections/read_models/accounts.cc
#include "projections/read_models/accounts.h"

#include <algorithm>

#include <fmt/core.h>

#include "events/assert.h"
#include "ledger/policy.h"
#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/lifecycle_status.h"
#include "projections/read_models/internal/record_fields.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey32;
using internal::AppendKey64;
using internal::AppendKey8;
using internal::ReadKey64;
using internal::RecordError;
using internal::ValueReader;
using internal::ValueWriter;
using Row = AccountsProjection::Row;
using RegularAllocation = AccountsProjection::RegularAllocation;
using InterestDelta = AccountsProjection::InterestDelta;
using Withdrawals = AccountsProjection::Withdrawals;
using OpenWithdrawal = AccountsProjection::OpenWithdrawal;

constexpr std::string_view kRowPrefix = "r/";
constexpr std::string_view kEmployerIndexPrefix = "e/";
constexpr std::string_view kStatusIndexPrefix = "t/";
constexpr std::string_view kCompletionPrefix = "c/";
constexpr std::string_view kEmployerMonthPrefix = "h/";
constexpr std::string_view kWithdrawalsPrefix = "w/";
constexpr std::string_view kPolicyPrefix = "q/";
using StepKind = AccountsProjection::StepKind;
using PendingStep = AccountsProjection::PendingStep;

// An employer's paid-up-to month from a position on, keyed by the position inverted so that
// the first key after (employer, ~p) is the latest change before p.
std::string EmployerMonthKey(uint64_t employer_id, uint64_t position) {
  std::string key(kEmployerMonthPrefix);
  AppendKey64(key, employer_id);
  AppendKey64(key, ~position);
  return key;
}

std::string CompletionKey(uint64_t employer_id, uint64_t remittance_id) {
  std::string key(kCompletionPrefix);
  AppendKey64(key, employer_id);
  AppendKey64(key, remittance_id);
  return key;
}

uint64_t PageOf(uint64_t account_id) { return account_id / kAccountsPerPage; }

std::string PageKey(uint64_t page) {
  std::string key(kRowPrefix);
  AppendKey64(key, page);
  return key;
}

std::string WithdrawalsKey(uint64_t page) {
  std::string key(kWithdrawalsPrefix);
  AppendKey64(key, page);
  return key;
}

std::string PolicyKey(uint32_t version) {
  std::string key(kPolicyPrefix);
  AppendKey32(key, version);
  return key;
}

void EncodeRateTable(std::string& out, std::span<const ledger::RateSegment> table) {
  out.clear();
  ValueWriter writer(out);
  HPF_ASSERT(table.size() <= UINT16_MAX);
  writer.U16(static_cast<uint16_t>(table.size()));
  for (const ledger::RateSegment& entry : table) {
    writer.U32(entry.from.yyyymmdd());
    writer.U32(entry.rate.value);
  }
}

Status DecodeRateTable(std::string_view value, uint32_t version,
                       std::vector<ledger::RateSegment>* table) {
  const std::string what = fmt::format("accounts: rate table of policy version {}", version);
  ValueReader reader(value);
  const uint16_t count = reader.U16();
  table->clear();
  for (uint16_t i = 0; i < count && reader.ok(); ++i) {
    const uint32_t from = reader.U32();
    const uint32_t rate = reader.U32();
    if (!reader.ok()) break;
    auto date = ledger::Date::FromYyyymmdd(from);
    if (!date.has_value()) return ValueReader::Invalid(what, "an entry's date is not valid");
    table->push_back({*date, ledger::RatePpm{rate}});
  }
  HPF_RETURN_IF_ERROR(reader.Finish(what));
  if (Status valid = ledger::ValidateRateTable(*table); !valid.ok()) {
    return ValueReader::Invalid(what, valid.message());
  }
  return Status::Ok();
}

// Visits the stored rate tables, oldest version first.
Status ScanRateTables(
    const ReadView& view,
    const std::function<void(uint32_t version, std::vector<ledger::RateSegment>&& table)>& visit) {
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      view.Scan(kPolicyPrefix, "", [&](std::string_view key, std::string_view value) {
        uint32_t version = 0;
        if (key.size() != kPolicyPrefix.size() + 4 ||
            !internal::ReadKey32(key, kPolicyPrefix.size(), &version)) {
          decoded = CorruptionError("accounts: malformed policy key");
          return false;
        }
        std::vector<ledger::RateSegment> table;
        decoded = DecodeRateTable(value, version, &table);
        if (decoded.ok()) visit(version, std::move(table));
        return decoded.ok();
      }));
  return decoded;
}

ledger::InterestYear OpenYear(const Row& row) {
  return ledger::InterestYear::FromStartingYear(row.interest_year).value();
}

// The latest value date of money applied to the open year; its first day if none.
ledger::Date LatestValueDate(const Row& row) {
  return row.interest_deltas.empty()
             ? OpenYear(row).FirstDay()
             : ledger::Date::FromYyyymmdd(row.interest_deltas.back().date).value();
}

// Money counting from `from` on: merged into the entry of its date, which keeps the list the
// same whatever order the money came in.
void AddDelta(Row& row, ledger::Date from, int64_t fen) {
  const uint32_t date = from.yyyymmdd();
  auto& deltas = row.interest_deltas;
  auto it = std::lower_bound(
      deltas.begin(), deltas.end(), date,
      [](const InterestDelta& delta, uint32_t value) { return delta.date < value; });
  if (it != deltas.end() && it->date == date) {
    it->fen += fen;
  } else {
    deltas.insert(it, {.date = date, .fen = fen});
  }
}

// The accumulator of `year` from `opening_fen` and `deltas` under `rate_table`: what the write
// model's accumulator holds for the same money. kFailedPrecondition if the table does not
// cover the year's first day. REQUIRES: ValidateRateTable(rate_table).ok(); every delta's date
// within the year.
Result<ledger::InterestAccumulator> Accumulate(ledger::InterestYear year, int64_t opening_fen,
                                               std::span<const InterestDelta> deltas,
                                               std::span<const ledger::RateSegment> rate_table) {
  if (rate_table.front().from > year.FirstDay()) {
    return FailedPreconditionError(
        fmt::format("the rate table starts on {}, after the first day {} of interest year {}",
                    rate_table.front().from.ToIsoString(), year.FirstDay().ToIsoString(),
                    year.starting_year()));
  }
  ledger::InterestAccumulator accumulator(year, rate_table, ledger::Fen{opening_fen});
  for (const InterestDelta& delta : deltas) {
    accumulator.Apply(ledger::Date::FromYyyymmdd(delta.date).value(), ledger::Fen{delta.fen});
  }
  return accumulator;
}

// An interest record's segments, their dates checked.
Result<std::vector<ledger::InterestSegment>> RecordSegments(
    const SourcedRecord& sourced,
    const flatbuffers::Vector<const schema::InterestSegment*>* segments) {
  std::vector<ledger::InterestSegment> out;
  if (segments == nullptr) return out;
  for (const schema::InterestSegment* segment : *segments) {
    HPF_ASSIGN_OR_RETURN(const ledger::Date from,
                         internal::DateField(sourced, segment->from_date(), "segment date"));
    out.push_back({.from = from,
                   .rate = ledger::RatePpm{segment->rate_ppm()},
                   .fen_days = ledger::FenDays{segment->accumulator_fen_days()}});
  }
  return out;
}

// Checks that `theirs`, an interest record's segments of `year` over [its first day, until),
// are the 积数 of the money folded here: rebuilt with their own (from, rate) as the rate table,
// the year's opening balance and deltas give the same segments. Rates are the record's: the
// write model took them from the policy in force, which a record carries no trace of (the
// PolicyChanged records may come from another partition, later), while the 积数 is this
// stream's alone. REQUIRES: the deltas are dated before `until`.
Status CheckSegments(const SourcedRecord& sourced, ledger::InterestYear year, int64_t opening_fen,
                     std::span<const InterestDelta> deltas,
                     std::span<const ledger::InterestSegment> theirs, ledger::Date until) {
  const auto differ = [&](std::string_view why) {
    return RecordError(sourced, fmt::format("its 积数 segments of interest year {} differ from the "
                                            "money folded here ({}): a record is missing",
                                            year.starting_year(), why));
  };
  if (theirs.empty()) {
    return until == year.FirstDay() ? Status::Ok() : differ("none given");
  }
  if (theirs.front().from != year.FirstDay() || theirs.back().from >= until) {
    return differ("they do not run from the year's first day to their end");
  }
  std::vector<ledger::RateSegment> table;
  for (const ledger::InterestSegment& segment : theirs) {
    table.push_back({.from = segment.from, .rate = segment.rate});
  }
  if (Status valid = ledger::ValidateRateTable(table); !valid.ok()) {
    return RecordError(sourced, fmt::format("its segments are no rate table: {}", valid.message()));
  }
  HPF_ASSIGN_OR_RETURN(const ledger::InterestAccumulator accumulator,
                       Accumulate(year, opening_fen, deltas, table));
  const std::vector<ledger::InterestSegment> ours =
      until == year.CreditValueDate()
          ? std::vector<ledger::InterestSegment>(accumulator.segments().begin(),
                                                 accumulator.segments().end())
          : accumulator.SegmentsUntil(until);
  if (ours.size() != theirs.size() || !std::equal(ours.begin(), ours.end(), theirs.begin())) {
    return differ("other fen·days");
  }
  return Status::Ok();
}

// The interest an interest record carries must be InterestOn() its segments on its day basis.
Status CheckInterest(const SourcedRecord& sourced, std::span<const ledger::InterestSegment> theirs,
                     uint16_t day_basis, int64_t interest_fen) {
  auto basis = ledger::DayBasisFromDays(day_basis);
  if (!basis.has_value()) return RecordError(sourced, basis.error().message());
  const ledger::Fen expected = ledger::InterestOn(theirs, *basis);
  if (expected.value != interest_fen) {
    return RecordError(sourced, fmt::format("credits {} fen, but its segments give {} fen",
                                            interest_fen, expected.value));
  }
  return Status::Ok();
}

// The list indexes, one key per (employer, status, page) and per (status, page), each holding
// the ids of the page's accounts in that state: a remittance's accounts opened together cost
// one Put, not one each.
void EmployerIndexKey(std::string& key, uint64_t employer_id, uint8_t status, uint64_t page) {
  key.assign(kEmployerIndexPrefix);
  AppendKey64(key, employer_id);
  AppendKey8(key, status);
  AppendKey64(key, page);
}

void StatusIndexKey(std::string& key, uint8_t status, uint64_t page) {
  key.assign(kStatusIndexPrefix);
  AppendKey8(key, status);
  AppendKey64(key, page);
}

bool ValidStatus(uint8_t value) { return value >= 1 && value <= 3; }

void EncodeRow(ValueWriter& writer, uint64_t account_id, const Row& row) {
  writer.U64(account_id);
  writer.U64(row.employer_id);
  writer.I64(row.contribution_base_fen);
  writer.I64(row.balance_fen);
  writer.I64(row.interest_credited_fen);
  writer.U32(row.paid_up_to_month);
  writer.U32(row.opened_date);
  writer.U64(row.stream_version);
  writer.U64(row.last_position);
  writer.U8(static_cast<uint8_t>(row.status));
  writer.U8(row.frozen ? 1 : 0);
  writer.U8(row.regular_count);
  for (size_t i = 0; i < row.regular_count; ++i) {
    writer.U64(row.regular[i].position);
    writer.U32(row.regular[i].month);
    writer.U64(row.regular[i].employer_id);
    writer.U64(row.regular[i].remittance_id);
  }
  writer.U8(row.pending_count);
  for (size_t i = 0; i < row.pending_count; ++i) {
    writer.U8(static_cast<uint8_t>(row.pending[i].kind));
    writer.U32(row.pending[i].month);
    writer.U64(row.pending[i].employer_id);
    writer.U64(row.pending[i].remittance_id);
    writer.U64(row.pending[i].position);
  }
  writer.I32(row.interest_year);
  writer.I64(row.interest_opening_fen);
  HPF_ASSERT(row.interest_deltas.size() <= kInterestDatesMax);
  writer.U16(static_cast<uint16_t>(row.interest_deltas.size()));
  for (const InterestDelta& delta : row.interest_deltas) {
    writer.U32(delta.date);
    writer.I64(delta.fen);
  }
  writer.U32(row.closed_date);
  writer.U8(row.close_reason);
  writer.U8(row.close_cause_kind);
  writer.U64(row.close_cause_id);
  writer.U64(row.closed_position);
}

Status DecodeRow(ValueReader& reader, uint64_t* account_id, Row* row) {
  *account_id = reader.U64();
  const std::string what = fmt::format("account {}", *account_id);
  row->employer_id = reader.U64();
  row->contribution_base_fen = reader.I64();
  row->balance_fen = reader.I64();
  row->interest_credited_fen = reader.I64();
  row->paid_up_to_month = reader.U32();
  row->opened_date = reader.U32();
  row->stream_version = reader.U64();
  row->last_position = reader.U64();
  const uint8_t status = reader.U8();
  const uint8_t frozen = reader.U8();
  row->regular_count = reader.U8();
  if (!reader.ok()) return reader.Finish(what);
  if (!ValidStatus(status) || frozen > 1 || row->regular_count > kRegularAllocationsKept) {
    return ValueReader::Invalid(what, "status, frozen flag or allocation count out of range");
  }
  row->status = static_cast<AccountStatus>(status);
  row->frozen = frozen == 1;
  for (size_t i = 0; i < row->regular_count; ++i) {
    row->regular[i].position = reader.U64();
    row->regular[i].month = reader.U32();
    row->regular[i].employer_id = reader.U64();
    row->regular[i].remittance_id = reader.U64();
  }
  row->pending_count = reader.U8();
  if (row->pending_count > kPendingStepsMax) {
    return ValueReader::Invalid(what, "too many pending steps");
  }
  for (size_t i = 0; i < row->pending_count; ++i) {
    const uint8_t kind = reader.U8();
    row->pending[i].kind = static_cast<StepKind>(kind);
    row->pending[i].month = reader.U32();
    row->pending[i].employer_id = reader.U64();
    row->pending[i].remittance_id = reader.U64();
    row->pending[i].position = reader.U64();
    if (!reader.ok()) break;
    if (kind < 1 || kind > 3 ||
        (row->pending[i].kind != StepKind::kJoined &&
         !ledger::Month::FromYyyymm(row->pending[i].month))) {
      return ValueReader::Invalid(what, "a pending step is not valid");
    }
  }
  const int32_t year_number = reader.I32();
  row->interest_opening_fen = reader.I64();
  const uint16_t deltas_count = reader.U16();
  if (!reader.ok()) return reader.Finish(what);
  auto year = ledger::InterestYear::FromStartingYear(year_number);
  if (!year.has_value() || deltas_count > kInterestDatesMax) {
    return ValueReader::Invalid(what, "interest year or its count of value dates is not valid");
  }
  row->interest_year = year_number;
  row->interest_deltas.clear();
  int64_t sum = row->interest_opening_fen;
  for (uint16_t i = 0; i < deltas_count && reader.ok(); ++i) {
    const uint32_t date = reader.U32();
    const int64_t fen = reader.I64();
    if (!reader.ok()) break;
    auto value_date = ledger::Date::FromYyyymmdd(date);
    if (!value_date.has_value() || *value_date < year->FirstDay() ||
        *value_date > year->LastDay() ||
        (!row->interest_deltas.empty() && row->interest_deltas.back().date >= date)) {
      return ValueReader::Invalid(what, "an interest value date is not valid or out of order");
    }
    row->interest_deltas.push_back({.date = date, .fen = fen});
    sum += fen;
  }
  row->closed_date = reader.U32();
  row->close_reason = reader.U8();
  row->close_cause_kind = reader.U8();
  row->close_cause_id = reader.U64();
  row->closed_position = reader.U64();
  if (!reader.ok()) return reader.Finish(what);
  if (!ledger::Month::FromYyyymm(row->paid_up_to_month).has_value() ||
      !ledger::Date::FromYyyymmdd(row->opened_date).has_value()) {
    return ValueReader::Invalid(what, "paid-up-to month or opening date is not valid");
  }
  if ((row->status == AccountStatus::kClosed) != (row->closed_date != 0) ||
      (row->closed_date != 0 && !ledger::Date::FromYyyymmdd(row->closed_date).has_value()) ||
      row->close_cause_kind > static_cast<uint8_t>(schema::EntityKind::MAX)) {
    return ValueReader::Invalid(what, "its closing does not match its status");
  }
  if (sum != row->balance_fen) {
    return ValueReader::Invalid(what, "the interest year's money is not the account's balance");
  }
  return Status::Ok();
}

// Visits the rows of a stored page.
Status DecodePage(std::string_view value, uint64_t page,
                  const std::function<void(uint64_t account_id, Row&& row)>& visit) {
  const std::string what = fmt::format("accounts page {}", page);
  ValueReader reader(value);
  const uint16_t rows_count = reader.U16();
  if (rows_count > kAccountsPerPage) return ValueReader::Invalid(what, "too many rows");
  for (uint16_t i = 0; i < rows_count && reader.ok(); ++i) {
    uint64_t account_id = 0;
    Row row;
    HPF_RETURN_IF_ERROR(DecodeRow(reader, &account_id, &row));
    if (PageOf(account_id) != page) {
      return ValueReader::Invalid(what, fmt::format("holds account {}", account_id));
    }
    visit(account_id, std::move(row));
  }
  return reader.Finish(what);
}

// The employer's paid-up-to month as it stood just before `position`; 0 if nothing is known
// of it before then (not yet delivered).
Result<uint32_t> EmployerMonthBefore(const ReadView& view, uint64_t employer_id,
                                     uint64_t position) {
  std::string prefix(kEmployerMonthPrefix);
  AppendKey64(prefix, employer_id);
  uint32_t month = 0;
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(view.Scan(prefix, EmployerMonthKey(employer_id, position),
                                [&](std::string_view, std::string_view value) {
                                  ValueReader reader(value);
                                  month = reader.U32();
                                  decoded = reader.Finish("accounts: employer's month");
                                  return false;
                                }));
  HPF_RETURN_IF_ERROR(decoded);
  return month;
}

// The paid-up-to month with the row's pending steps replayed (accounts.h).
Result<uint32_t> SettledPaidUpMonth(const ReadView& view, const Row& row) {
  uint32_t month = row.paid_up_to_month;
  for (size_t i = 0; i < row.pending_count; ++i) {
    const PendingStep& step = row.pending[i];
    switch (step.kind) {
      case StepKind::kAtLeast:
        month = std::max(month, step.month);
        break;
      case StepKind::kJoined: {
        HPF_ASSIGN_OR_RETURN(const uint32_t employer_month,
                             EmployerMonthBefore(view, step.employer_id, step.position));
        month = std::max(month, employer_month);
        break;
      }
      case StepKind::kReversal: {
        if (month != step.month) break;
        HPF_ASSIGN_OR_RETURN(std::optional<std::string> completed,
                             view.Get(CompletionKey(step.employer_id, step.remittance_id)));
        uint64_t completed_at = 0;
        if (completed.has_value()) {
          ValueReader reader(*completed);
          completed_at = reader.U64();
          HPF_RETURN_IF_ERROR(reader.Finish("accounts: list completion"));
        }
        if (!completed.has_value() || completed_at > step.position) {
          month = ledger::Month::FromYyyymm(month).value().Prev().yyyymm();
        }
        break;
      }
    }
  }
  return month;
}

void EncodeWithdrawals(ValueWriter& writer, uint64_t account_id, const Withdrawals& withdrawals) {
  writer.U64(account_id);
  writer.I64(withdrawals.paid_fen);
  writer.U32(withdrawals.paid_count);
  HPF_ASSERT(withdrawals.open.size() <= UINT8_MAX);
  writer.U8(static_cast<uint8_t>(withdrawals.open.size()));
  for (const OpenWithdrawal& open : withdrawals.open) {
    writer.U64(open.withdrawal_id);
    writer.U8(static_cast<uint8_t>(open.status));
    writer.U8(open.reason);
    writer.I64(open.amount_fen);
    writer.U64(open.stream_version);
    writer.U64(open.position);
  }
}

// Visits the withdrawals of a stored "w/" page.
Status DecodeWithdrawalsPage(
    std::string_view value, uint64_t page,
    const std::function<void(uint64_t account_id, Withdrawals&& withdrawals)>& visit) {
  const std::string what = fmt::format("accounts: withdrawals of page {}", page);
  ValueReader reader(value);
  const uint16_t count = reader.U16();
  if (count > kAccountsPerPage) return ValueReader::Invalid(what, "too many accounts");
  for (uint16_t i = 0; i < count && reader.ok(); ++i) {
    const uint64_t account_id = reader.U64();
    Withdrawals withdrawals;
    withdrawals.paid_fen = reader.I64();
    withdrawals.paid_count = reader.U32();
    const uint8_t open_count = reader.U8();
    for (uint8_t k = 0; k < open_count && reader.ok(); ++k) {
      OpenWithdrawal open;
      open.withdrawal_id = reader.U64();
      const uint8_t status = reader.U8();
      open.reason = reader.U8();
      open.amount_fen = reader.I64();
      open.stream_version = reader.U64();
      open.position = reader.U64();
      if (!reader.ok()) break;
      if (status < 1 || status > 2) return ValueReader::Invalid(what, "a withdrawal's status");
      open.status = static_cast<WithdrawalStatus>(status);
      withdrawals.open.push_back(open);
    }
    if (!reader.ok()) break;
    if (PageOf(account_id) != page) {
      return ValueReader::Invalid(what, fmt::format("holds account {}", account_id));
    }
    visit(account_id, std::move(withdrawals));
  }
  return reader.Finish(what);
}

Result<AccountSummary> Summarize(const ReadView& view, uint64_t account_id, const Row& row,
                                 const Withdrawals* withdrawals) {
  HPF_ASSIGN_OR_RETURN(const uint32_t paid_up_to_month, SettledPaidUpMonth(view, row));
  AccountSummary summary{.account_id = account_id,
                         .employer_id = row.employer_id,
                         .status = row.status,
                         .frozen = row.frozen,
                         .contribution_base = ledger::Fen{row.contribution_base_fen},
                         .balance = ledger::Fen{row.balance_fen},
                         .held = {},
                         .paid_up_to_month = ledger::Month::FromYyyymm(paid_up_to_month).value(),
                         .opened_on = ledger::Date::FromYyyymmdd(row.opened_date).value(),
                         .interest_year = OpenYear(row),
                         .interest_credited = ledger::Fen{row.interest_credited_fen},
                         .last_position = row.last_position,
                         .withdrawal_in_flight = std::nullopt,
                         .withdrawn = {},
                         .withdrawals_paid = 0,
                         .closure = std::nullopt};
  if (withdrawals != nullptr) {
    summary.balance -= ledger::Fen{withdrawals->paid_fen};
    summary.withdrawn = ledger::Fen{withdrawals->paid_fen};
    summary.withdrawals_paid = withdrawals->paid_count;
    for (const OpenWithdrawal& open : withdrawals->open) {
      if (open.status == WithdrawalStatus::kApproved) summary.held += ledger::Fen{open.amount_fen};
    }
    if (!withdrawals->open.empty()) {
      const OpenWithdrawal& open = withdrawals->open.front();
      summary.withdrawal_in_flight =
          WithdrawalInFlight{.withdrawal_id = open.withdrawal_id,
                             .status = open.status,
                             .reason = static_cast<schema::WithdrawalReason>(open.reason),
                             .amount = ledger::Fen{open.amount_fen},
                             .position = open.position};
    }
  }
  if (row.status == AccountStatus::kClosed) {
    summary.closure =
        AccountClosure{.closed_on = ledger::Date::FromYyyymmdd(row.closed_date).value(),
                       .reason = static_cast<schema::AccountCloseReason>(row.close_reason),
                       .cause_kind = static_cast<schema::EntityKind>(row.close_cause_kind),
                       .cause_id = row.close_cause_id,
                       .position = row.closed_position};
  }
  return summary;
}

// Reads accounts by id with their withdrawals, keeping the last pages decoded (list queries
// visit neighbours).
class RowReader {
 public:
  explicit RowReader(const ReadView& view) : view_(view) {}
  Result<std::optional<Row>> Find(uint64_t account_id) {
    const uint64_t page = PageOf(account_id);
    if (!loaded_ || page != page_) {
      rows_.clear();
      HPF_ASSIGN_OR_RETURN(std::optional<std::string> value, view_.Get(PageKey(page)));
      if (value.has_value()) {
        HPF_RETURN_IF_ERROR(DecodePage(*value, page, [this](uint64_t id, Row&& row) {
          rows_.emplace_back(id, std::move(row));
        }));
      }
      page_ = page;
      loaded_ = true;
    }
    for (auto& [id, row] : rows_) {
      if (id == account_id) return std::optional<Row>(row);
    }
    return std::optional<Row>();
  }
  // The account's withdrawals; nullptr if it never had one in flight.
  Result<const Withdrawals*> FindWithdrawals(uint64_t account_id) {
    const uint64_t page = PageOf(account_id);
    if (!withdrawals_loaded_ || page != withdrawals_page_) {
      withdrawals_.clear();
      HPF_ASSIGN_OR_RETURN(std::optional<std::string> value, view_.Get(WithdrawalsKey(page)));
      if (value.has_value()) {
        HPF_RETURN_IF_ERROR(
            DecodeWithdrawalsPage(*value, page, [this](uint64_t id, Withdrawals&& withdrawals) {
              withdrawals_.emplace_back(id, std::move(withdrawals));
            }));
      }
      withdrawals_page_ = page;
      withdrawals_loaded_ = true;
    }
    for (auto& [id, withdrawals] : withdrawals_) {
      if (id == account_id) return &withdrawals;
    }
    return static_cast<const Withdrawals*>(nullptr);
  }
  Result<AccountSummary> Summary(uint64_t account_id, const Row& row) {
    HPF_ASSIGN_OR_RETURN(const Withdrawals* withdrawals, FindWithdrawals(account_id));
    return Summarize(view_, account_id, row, withdrawals);
  }

 private:
  const ReadView& view_;
  bool loaded_ = false;
  uint64_t page_ = 0;
  std::vector<std::pair<uint64_t, Row>> rows_;
  bool withdrawals_loaded_ = false;
  uint64_t withdrawals_page_ = 0;
  std::vector<std::pair<uint64_t, Withdrawals>> withdrawals_;
};

// Adds a step to the row's pending ones; when they are full, the oldest is settled as the
// usual case would: an unsealing raises the month, a reversal is one of a completed list's, a
// joining finds the account ahead of its employer.
void AddPendingStep(Row& row, const PendingStep& step) {
  if (row.pending_count == kPendingStepsMax) {
    const PendingStep& oldest = row.pending[0];
    if (oldest.kind == StepKind::kAtLeast) {
      row.paid_up_to_month = std::max(row.paid_up_to_month, oldest.month);
    }
    std::move(row.pending.begin() + 1, row.pending.end(), row.pending.begin());
    --row.pending_count;
  }
  row.pending[row.pending_count++] = step;
}

}  // namespace

std::string_view AccountStatusName(AccountStatus status) {
  return internal::LifecycleStatusName(static_cast<uint8_t>(status));
}

std::string_view WithdrawalStatusName(WithdrawalStatus status) {
  return status == WithdrawalStatus::kApproved ? "approved" : "applied";
}

Result<AccountStatus> ParseAccountStatus(std::string_view name) {
  HPF_ASSIGN_OR_RETURN(const uint8_t value, internal::ParseLifecycleStatus("account status", name));
  return static_cast<AccountStatus>(value);
}

std::vector<ledger::RateSegment> DefaultPersonalRateTable() {
  return {
      {ledger::Date::FromYyyymmdd(19900101).value(), ledger::RatePpm{11'000}},
      {ledger::Date::FromYyyymmdd(20160221).value(), ledger::RatePpm{15'000}},
  };
}

Result<std::unique_ptr<AccountsProjection>> AccountsProjection::Create(AccountsOptions options) {
  HPF_RETURN_IF_ERROR(ledger::ValidateRateTable(options.personal_rate_table));
  const ledger::Date first_year_start =
      ledger::InterestYear::FromStartingYear(1990).value().FirstDay();
  if (options.personal_rate_table.front().from > first_year_start) {
    return InvalidArgumentError(fmt::format(
        "the personal rate table starts on {}, after the first interest year's "
        "first day {}",
        options.personal_rate_table.front().from.ToIsoString(), first_year_start.ToIsoString()));
  }
  auto projection = std::unique_ptr<AccountsProjection>(new AccountsProjection(std::move(options)));
  projection->rate_table_ = projection->options_.personal_rate_table;
  return projection;
}

Status AccountsProjection::Load(const ReadView& stored) {
  rows_.clear();
  touched_.clear();
  employer_marks_.clear();
  withdrawals_.clear();
  withdrawal_pages_.clear();
  tables_to_store_.clear();
  policy_version_ = 0;
  policy_stored_ = false;
  rate_table_ = options_.personal_rate_table;
  HPF_RETURN_IF_ERROR(
      ScanRateTables(stored, [this](uint32_t version, std::vector<ledger::RateSegment>&& table) {
        policy_version_ = version;
        policy_stored_ = true;
        rate_table_ = std::move(table);
      }));
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(kWithdrawalsPrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t page = 0;
        if (key.size() != kWithdrawalsPrefix.size() + 8 ||
            !ReadKey64(key, kWithdrawalsPrefix.size(), &page)) {
          decoded = CorruptionError("accounts: malformed withdrawals key");
          return false;
        }
        decoded = DecodeWithdrawalsPage(value, page, [this](uint64_t id, Withdrawals&& w) {
          withdrawals_.insert_or_assign(id, std::move(w));
        });
        return decoded.ok();
      }));
  HPF_RETURN_IF_ERROR(decoded);
  HPF_RETURN_IF_ERROR(
      stored.Scan(kRowPrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t page = 0;
        if (key.size() != kRowPrefix.size() + 8 || !ReadKey64(key, kRowPrefix.size(), &page)) {
          decoded = CorruptionError("accounts: malformed page key");
          return false;
        }
        decoded = DecodePage(value, page, [this](uint64_t id, Row&& row) {
          rows_.insert_or_assign(id, std::move(row));
        });
        return decoded.ok();
      }));
  return decoded;
}

Row* AccountsProjection::Touch(uint64_t account_id) {
  auto it = rows_.find(account_id);
  if (it == rows_.end()) return nullptr;
  Row& row = it->second;
  if (row.touched_batch != batch_) {
    row.touched_batch = batch_;
    touched_.push_back({.account_id = account_id,
                        .existed = true,
                        .employer_id = row.employer_id,
                        .status = row.status});
  }
  return &row;
}

AccountsProjection::Withdrawals& AccountsProjection::TouchWithdrawals(uint64_t account_id) {
  Withdrawals& withdrawals = withdrawals_[account_id];
  if (withdrawals.touched_batch != batch_) {
    withdrawals.touched_batch = batch_;
    withdrawal_pages_.push_back(PageOf(account_id));
  }
  return withdrawals;
}

Status AccountsProjection::ApplyPolicy(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  if (record.payload_type() != schema::Event::PolicyChanged) return Status::Ok();
  const auto* changed = record.payload_as_PolicyChanged();
  if (changed->policy_version() != policy_version_ + 1 ||
      record.envelope()->stream_version() != changed->policy_version()) {
    return RecordError(sourced, fmt::format("policy version {} (stream version {}) does not "
                                            "follow version {}",
                                            changed->policy_version(),
                                            record.envelope()->stream_version(), policy_version_));
  }
  if (changed->format() != schema::PolicyFormat::Json || changed->document() == nullptr) {
    return RecordError(sourced, "its policy document is not JSON");
  }
  HPF_ASSIGN_OR_RETURN(
      const ledger::Date from,
      internal::DateField(sourced, changed->effective_from_date(), "effective-from date"));
  auto book = ledger::ParsePolicy(std::string_view(
      reinterpret_cast<const char*>(changed->document()->data()), changed->document()->size()));
  if (!book.has_value()) {
    return RecordError(
        sourced, fmt::format("its policy document does not parse: {}", book.error().message()));
  }
  // The genesis decided everything under its table; a later change decides from its
  // effective_from on (the ledger refuses one that restates earlier days otherwise).
  const std::span<const ledger::RateSegment> theirs = book->personal_rate_table();
  std::vector<ledger::RateSegment> table;
  for (const ledger::RateSegment& entry : rate_table_) {
    if (policy_version_ > 0 && entry.from < from) table.push_back(entry);
  }
  for (const ledger::RateSegment& entry : theirs) {
    if (policy_version_ == 0 || entry.from >= from) table.push_back(entry);
  }
  if (Status valid = ledger::ValidateRateTable(table); !valid.ok()) {
    return RecordError(sourced, fmt::format("the rate table in force from {} is not valid: {}",
                                            from.ToIsoString(), valid.message()));
  }
  policy_version_ = changed->policy_version();
  rate_table_ = table;
  tables_to_store_.emplace_back(policy_version_, std::move(table));
  return Status::Ok();
}

Status AccountsProjection::ApplyWithdrawal(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  const uint64_t withdrawal_id = envelope.stream_id();
  uint64_t payload_id = 0;
  uint64_t account_id = 0;
  switch (record.payload_type()) {
    case schema::Event::WithdrawalApplied:
      payload_id = record.payload_as_WithdrawalApplied()->withdrawal_id();
      account_id = record.payload_as_WithdrawalApplied()->account_id();
      break;
    case schema::Event::WithdrawalApproved:
      payload_id = record.payload_as_WithdrawalApproved()->withdrawal_id();
      account_id = record.payload_as_WithdrawalApproved()->account_id();
      break;
    case schema::Event::WithdrawalRejected:
      payload_id = record.payload_as_WithdrawalRejected()->withdrawal_id();
      account_id = record.payload_as_WithdrawalRejected()->account_id();
      break;
    case schema::Event::WithdrawalPaid:
      payload_id = record.payload_as_WithdrawalPaid()->withdrawal_id();
      account_id = record.payload_as_WithdrawalPaid()->account_id();
      break;
    case schema::Event::WithdrawalCancelled:
      payload_id = record.payload_as_WithdrawalCancelled()->withdrawal_id();
      account_id = record.payload_as_WithdrawalCancelled()->account_id();
      break;
    default:
      if (internal::HasPostingTo(record, internal::kGlPersonalAccounts)) {
        return RecordError(sourced,
                           "a withdrawal's record this read model does not know moves "
                           "an account's money");
      }
      return Status::Ok();
  }
  if (payload_id != withdrawal_id || account_id == 0) {
    return RecordError(sourced, "names another withdrawal than its stream's, or no account");
  }
  // Every 201 posting of a withdrawal's record is on the account it names.
  int64_t money = 0;
  if (record.postings() != nullptr) {
    for (const schema::Posting* posting : *record.postings()) {
      if (posting->gl_account() != internal::kGlPersonalAccounts) continue;
      if (posting->subledger_kind() != schema::EntityKind::Account ||
          posting->subledger_id() != account_id) {
        return RecordError(sourced, fmt::format("posts to personal account {} for a withdrawal "
                                                "from account {}",
                                                posting->subledger_id(), account_id));
      }
      money +=
          posting->side() == schema::Side::Credit ? posting->amount_fen() : -posting->amount_fen();
    }
  }
  Withdrawals& withdrawals = TouchWithdrawals(account_id);
  auto open =
      std::lower_bound(withdrawals.open.begin(), withdrawals.open.end(), withdrawal_id,
                       [](const OpenWithdrawal& w, uint64_t id) { return w.withdrawal_id < id; });
  const bool found = open != withdrawals.open.end() && open->withdrawal_id == withdrawal_id;
  const schema::Event type = record.payload_type();
  if (type != schema::Event::WithdrawalPaid && money != 0) {
    return RecordError(sourced, "moves an account's money, which only a payment does");
  }
  if (type == schema::Event::WithdrawalApplied) {
    const auto* applied = record.payload_as_WithdrawalApplied();
    if (found || envelope.stream_version() != 1) {
      return RecordError(sourced, "an application that is not its stream's first record");
    }
    withdrawals.open.insert(open, {.withdrawal_id = withdrawal_id,
                                   .status = WithdrawalStatus::kApplied,
                                   .reason = static_cast<uint8_t>(applied->reason()),
                                   .amount_fen = applied->amount_fen(),
                                   .stream_version = 1,
                                   .position = sourced.position.value});
    return Status::Ok();
  }
  if (!found) {
    return RecordError(sourced, fmt::format("withdrawal {} is not in flight on account {}: its "
                                            "stream has no WithdrawalApplied, or it ended",
                                            withdrawal_id, account_id));
  }
  if (envelope.stream_version() != open->stream_version + 1) {
    return RecordError(sourced, fmt::format("stream version {} does not follow {}: the source "
                                            "lost or reordered the withdrawal's records",
                                            envelope.stream_version(), open->stream_version));
  }
  open->stream_version = envelope.stream_version();
  open->position = sourced.position.value;
  bool ended = true;
  switch (type) {
    case schema::Event::WithdrawalApproved:
      if (open->status != WithdrawalStatus::kApplied) {
        return RecordError(sourced, "approves a withdrawal that is not waiting for review");
      }
      open->status = WithdrawalStatus::kApproved;
      open->amount_fen = record.payload_as_WithdrawalApproved()->amount_fen();
      ended = false;
      break;
    case schema::Event::WithdrawalRejected:
      if (open->status != WithdrawalStatus::kApplied) {
        return RecordError(sourced, "rejects a withdrawal that is not waiting for review");
      }
      break;
    case schema::Event::WithdrawalPaid: {
      const int64_t amount = record.payload_as_WithdrawalPaid()->amount_fen();
      if (open->status != WithdrawalStatus::kApproved) {
        return RecordError(sourced, "pays a withdrawal that is not approved");
      }
      if (amount < 0 || money != -amount) {
        return RecordError(sourced, "its 201 posting is not the amount paid");
      }
      withdrawals.paid_fen += amount;
      ++withdrawals.paid_count;
      break;
    }
    default:  // WithdrawalCancelled
      break;
  }
  if (ended) withdrawals.open.erase(open);
  if (withdrawals.open.empty() && withdrawals.paid_count == 0) withdrawals_.erase(account_id);
  return Status::Ok();
}

Status AccountsProjection::ApplyOne(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  const auto* postings = record.postings();
  if (envelope.stream_kind() == schema::EntityKind::Withdrawal) return ApplyWithdrawal(sourced);
  if (envelope.stream_kind() == schema::EntityKind::Policy) {
    HPF_RETURN_IF_ERROR(ApplyPolicy(sourced));
  }
  if (envelope.stream_kind() != schema::EntityKind::Account) {
    // What the accounts' pending steps are settled with: the employer's paid-up-to month
    // (registration, reopening, completed regular list) and its lists' completions.
    const uint64_t position = sourced.position.value;
    switch (record.payload_type()) {
      case schema::Event::EmployerRegistered: {
        const auto* registered = record.payload_as_EmployerRegistered();
        HPF_ASSIGN_OR_RETURN(const ledger::Month first,
                             internal::MonthField(sourced, registered->first_contribution_month(),
                                                  "first contribution month"));
        if (first.yyyymm() <= 199001) {
          return RecordError(sourced, "first contribution month has no month before it");
        }
        employer_marks_.push_back({registered->employer_id(), 0, first.Prev().yyyymm(), position});
        break;
      }
      case schema::Event::EmployerReopened: {
        const auto* reopened = record.payload_as_EmployerReopened();
        HPF_ASSIGN_OR_RETURN(const ledger::Month first,
                             internal::MonthField(sourced, reopened->first_contribution_month(),
                                                  "first contribution month"));
        if (first.yyyymm() <= 199001) {
          return RecordError(sourced, "first contribution month has no month before it");
        }
        employer_marks_.push_back({reopened->employer_id(), 0, first.Prev().yyyymm(), position});
        break;
      }
      case schema::Event::RemittanceCompleted: {
        const auto* completed = record.payload_as_RemittanceCompleted();
        if (completed->business_type() == schema::BusinessType::Remittance) {
          HPF_ASSIGN_OR_RETURN(
              const ledger::Month month,
              internal::MonthField(sourced, completed->paid_up_to_month(), "paid-up-to month"));
          employer_marks_.push_back(
              {completed->employer_id(), completed->remittance_id(), month.yyyymm(), position});
        }
        break;
      }
      default:
        break;
    }
    if (internal::HasPostingTo(record, internal::kGlPersonalAccounts)) {
      return RecordError(sourced,
                         "posts to personal accounts (201) from a stream that is not an "
                         "account: this read model orders an account's money by its "
                         "own stream");
    }
    return Status::Ok();
  }
  const uint64_t account_id = envelope.stream_id();
  int64_t money = 0;
  if (postings != nullptr) {
    for (const schema::Posting* posting : *postings) {
      if (posting->gl_account() != internal::kGlPersonalAccounts) continue;
      if (posting->subledger_kind() != schema::EntityKind::Account ||
          posting->subledger_id() != account_id) {
        return RecordError(sourced, fmt::format("posts to personal account {} on account {}'s "
                                                "stream",
                                                posting->subledger_id(), account_id));
      }
      money +=
          posting->side() == schema::Side::Credit ? posting->amount_fen() : -posting->amount_fen();
    }
  }
  HPF_ASSIGN_OR_RETURN(const ledger::Date effective, internal::EffectiveDateOf(sourced));
  const schema::Event type = record.payload_type();

  if (type == schema::Event::AccountOpened) {
    const auto* opened = record.payload_as_AccountOpened();
    if (opened->account_id() != account_id) {
      return RecordError(sourced, "opens another account than its stream's");
    }
    if (rows_.contains(account_id)) return RecordError(sourced, "the account is already open");
    if (envelope.stream_version() != 1) {
      return RecordError(sourced, "an opening that is not the stream's first record");
    }
    HPF_ASSIGN_OR_RETURN(const ledger::Month first,
                         internal::MonthField(sourced, opened->first_contribution_month(),
                                              "first contribution month"));
    if (first.yyyymm() <= 199001) {
      return RecordError(sourced, "first contribution month has no month before it");
    }
    auto year = ledger::InterestYear::Containing(effective);
    if (!year.has_value()) return RecordError(sourced, year.error().message());
    Row row;
    row.employer_id = opened->employer_id();
    row.contribution_base_fen = opened->contribution_base_fen();
    row.paid_up_to_month = first.Prev().yyyymm();
    row.opened_date = effective.yyyymmdd();
    row.stream_version = 1;
    row.last_position = sourced.position.value;
    row.interest_year = year->starting_year();
    if (row.employer_id != 0) {
      AddPendingStep(row, {.kind = StepKind::kJoined,
                           .employer_id = row.employer_id,
                           .position = sourced.position.value});
    }
    row.touched_batch = batch_;
    rows_.emplace(account_id, std::move(row));
    touched_.push_back({.account_id = account_id, .existed = false});
    return money == 0 ? Status::Ok() : RecordError(sourced, "an opening that moves money");
  }

  Row* row = Touch(account_id);
  if (row == nullptr) return RecordError(sourced, "the account's stream has no AccountOpened");
  if (envelope.stream_version() != row->stream_version + 1) {
    return RecordError(sourced, fmt::format("stream version {} does not follow {}: the source "
                                            "lost or reordered the account's records",
                                            envelope.stream_version(), row->stream_version));
  }
  row->stream_version = envelope.stream_version();
  row->last_position = sourced.position.value;
  const ledger::InterestYear open_year = OpenYear(*row);
  // The day money counts from: its value date, or the open year's first day for a date in a
  // settled year (ledger/state.h CountedFrom).
  auto counted_from = [&]() -> Result<ledger::Date> {
    if (effective > open_year.LastDay()) {
      return RecordError(sourced, fmt::format("value-dated {} after the open interest year {}",
                                              effective.ToIsoString(), open_year.starting_year()));
    }
    return std::max(effective, open_year.FirstDay());
  };
  auto add_money = [&](ledger::Date from) -> Status {
    row->balance_fen += money;
    if (row->balance_fen < 0) return RecordError(sourced, "the balance would go below zero");
    AddDelta(*row, from, money);  // within the open year: one of its <= 366 dates
    return Status::Ok();
  };

  switch (type) {
    case schema::Event::ContributionAllocated: {
      const auto* allocated = record.payload_as_ContributionAllocated();
      if (money <= 0 ||
          money != allocated->employer_amount_fen() + allocated->employee_amount_fen()) {
        return RecordError(sourced, "its 201 posting is not the line's two sides");
      }
      HPF_ASSIGN_OR_RETURN(const ledger::Date from, counted_from());
      HPF_RETURN_IF_ERROR(add_money(from));
      if (allocated->business_type() == schema::BusinessType::Remittance) {
        HPF_ASSIGN_OR_RETURN(
            const ledger::Month month,
            internal::MonthField(sourced, allocated->contribution_month(), "contribution month"));
        row->paid_up_to_month = month.yyyymm();
        row->pending_count = 0;  // whatever the reversals before did, the month is this one
        if (row->regular_count == kRegularAllocationsKept) {
          std::move(row->regular.begin() + 1, row->regular.end(), row->regular.begin());
          --row->regular_count;
        }
        row->regular[row->regular_count++] = {.position = sourced.position.value,
                                              .month = month.yyyymm(),
                                              .employer_id = allocated->employer_id(),
                                              .remittance_id = allocated->remittance_id()};
      }
      return Status::Ok();
    }
    case schema::Event::YearEndInterestCredited: {
      const auto* credited = record.payload_as_YearEndInterestCredited();
      if (credited->from_date() != open_year.FirstDay().yyyymmdd() ||
          credited->until_date() != open_year.CreditValueDate().yyyymmdd()) {
        return RecordError(sourced, fmt::format("credits [{}, {}) but the account's open "
                                                "interest year is {}",
                                                credited->from_date(), credited->until_date(),
                                                open_year.starting_year()));
      }
      if (money != credited->interest_fen() || money < 0) {
        return RecordError(sourced, "its 201 posting is not its interest");
      }
      HPF_ASSIGN_OR_RETURN(const std::vector<ledger::InterestSegment> theirs,
                           RecordSegments(sourced, credited->segments()));
      HPF_RETURN_IF_ERROR(CheckSegments(sourced, open_year, row->interest_opening_fen,
                                        row->interest_deltas, theirs, open_year.CreditValueDate()));
      HPF_RETURN_IF_ERROR(
          CheckInterest(sourced, theirs, credited->day_basis(), credited->interest_fen()));
      if (open_year.starting_year() >= 2198) {
        return RecordError(sourced, "no interest year follows");
      }
      // The next year opens with the balance and the interest credited (ledger CarryForward).
      row->balance_fen += money;
      row->interest_credited_fen += money;
      row->interest_year = open_year.Next().starting_year();
      row->interest_opening_fen = row->balance_fen;
      row->interest_deltas.clear();
      return Status::Ok();
    }
    case schema::Event::InterestToDateCredited: {
      const auto* credited = record.payload_as_InterestToDateCredited();
      if (credited->account_id() != account_id) {
        return RecordError(sourced, "credits another account than its stream's");
      }
      if (money != credited->interest_fen() || money < 0) {
        return RecordError(sourced, "its 201 posting is not its interest");
      }
      HPF_ASSIGN_OR_RETURN(const ledger::Date from,
                           internal::DateField(sourced, credited->from_date(), "from date"));
      HPF_ASSIGN_OR_RETURN(const ledger::Date until,
                           internal::DateField(sourced, credited->until_date(), "until date"));
      if (from != open_year.FirstDay() || until < LatestValueDate(*row)) {
        return RecordError(sourced, fmt::format("credits [{}, {}) but the account's open year "
                                                "starts {} and holds money value-dated {}",
                                                from.ToIsoString(), until.ToIsoString(),
                                                open_year.FirstDay().ToIsoString(),
                                                LatestValueDate(*row).ToIsoString()));
      }
      auto last_year = ledger::InterestYear::Containing(until);
      if (!last_year.has_value()) return RecordError(sourced, last_year.error().message());
      HPF_ASSIGN_OR_RETURN(const std::vector<ledger::InterestSegment> theirs,
                           RecordSegments(sourced, credited->segments()));
      // Each year from the open one to the payment's: whole years carried forward with no
      // interest (the withdrawal kept the settlement away, ledger PayWithdrawal), then the
      // payment year's days before `until`. A year has one segment at least.
      if (last_year->starting_year() - open_year.starting_year() >
          static_cast<int32_t>(theirs.size())) {
        return RecordError(sourced, "spans more interest years than it has segments");
      }
      size_t at = 0;
      int64_t opening = row->interest_opening_fen;
      for (ledger::InterestYear year = open_year;; year = year.Next()) {
        const bool last = year == *last_year;
        size_t end = at;
        while (end < theirs.size() && theirs[end].from <= year.LastDay()) ++end;
        HPF_RETURN_IF_ERROR(
            CheckSegments(sourced, year, opening,
                          year == open_year ? std::span<const InterestDelta>(row->interest_deltas)
                                            : std::span<const InterestDelta>(),
                          std::span<const ledger::InterestSegment>(theirs).subspan(at, end - at),
                          last ? until : year.CreditValueDate()));
        at = end;
        if (last) break;
        opening = row->balance_fen;
      }
      if (at != theirs.size()) return RecordError(sourced, "has segments after its until date");
      HPF_RETURN_IF_ERROR(
          CheckInterest(sourced, theirs, credited->day_basis(), credited->interest_fen()));
      if (*last_year != open_year) {
        row->interest_year = last_year->starting_year();
        row->interest_opening_fen = row->balance_fen;
        row->interest_deltas.clear();
      }
      row->balance_fen += money;
      row->interest_credited_fen += money;
      if (money > 0) AddDelta(*row, until, money);
      return Status::Ok();
    }
    case schema::Event::RecordReversed: {
      const auto* reversed = record.payload_as_RecordReversed();
      if (money >= 0) return RecordError(sourced, "a reversal on an account that takes no money");
      if (internal::HasPostingTo(record, internal::kGlInterestToPersonal)) {
        // A year-end credit counted from its value date, the next year's first day: on or
        // before the open year's first day, so from that day (ledger/state.h Evolve).
        HPF_RETURN_IF_ERROR(add_money(open_year.FirstDay()));
        row->interest_credited_fen += money;
        return Status::Ok();
      }
      HPF_ASSIGN_OR_RETURN(const ledger::Date from, counted_from());
      HPF_RETURN_IF_ERROR(add_money(from));
      // Reversing the latest regular month steps it back while its list is open: a pending
      // step, settled by the queries (accounts.h). With steps already pending the month may
      // be lower than paid_up_to_month, so any reversal of a kept line is recorded then.
      for (size_t i = 0; i < row->regular_count; ++i) {
        const RegularAllocation line = row->regular[i];
        if (line.position != reversed->reversed_position()) continue;
        std::move(row->regular.begin() + static_cast<ptrdiff_t>(i) + 1,
                  row->regular.begin() + row->regular_count,
                  row->regular.begin() + static_cast<ptrdiff_t>(i));
        --row->regular_count;
        if (row->pending_count > 0 || line.month == row->paid_up_to_month) {
          AddPendingStep(*row, {.kind = StepKind::kReversal,
                                .month = line.month,
                                .employer_id = line.employer_id,
                                .remittance_id = line.remittance_id,
                                .position = sourced.position.value});
        }
        break;
      }
      return Status::Ok();
    }
    default:
      break;
  }
  if (money != 0) {
    return RecordError(sourced,
                       "moves an account's money in a way this read model does not "
                       "know (TODO(part 2): partial withdrawals and transfers)");
  }
  switch (type) {
    case schema::Event::AccountBaseChanged:
      row->contribution_base_fen = record.payload_as_AccountBaseChanged()->contribution_base_fen();
      break;
    case schema::Event::AccountSealed:
      row->status = AccountStatus::kSealed;
      break;
    case schema::Event::AccountUnsealed: {
      const auto* unsealed = record.payload_as_AccountUnsealed();
      HPF_ASSIGN_OR_RETURN(const ledger::Month first,
                           internal::MonthField(sourced, unsealed->first_contribution_month(),
                                                "first contribution month"));
      if (first.yyyymm() <= 199001) {
        return RecordError(sourced, "first contribution month has no month before it");
      }
      row->status = AccountStatus::kNormal;
      row->employer_id = unsealed->employer_id();
      row->contribution_base_fen = unsealed->contribution_base_fen();
      const uint32_t floor = first.Prev().yyyymm();
      if (row->pending_count == 0) {
        row->paid_up_to_month = std::max(row->paid_up_to_month, floor);
      } else {
        AddPendingStep(*row, {.kind = StepKind::kAtLeast, .month = floor});
      }
      AddPendingStep(*row, {.kind = StepKind::kJoined,
                            .employer_id = row->employer_id,
                            .position = sourced.position.value});
      break;
    }
    case schema::Event::AccountFrozen:
      row->frozen = true;
      break;
    case schema::Event::AccountUnfrozen:
      row->frozen = false;
      break;
    case schema::Event::AccountClosed: {
      const auto* closed = record.payload_as_AccountClosed();
      row->status = AccountStatus::kClosed;
      row->closed_date = effective.yyyymmdd();
      row->close_reason = static_cast<uint8_t>(closed->reason());
      row->close_cause_kind = static_cast<uint8_t>(closed->cause_kind());
      row->close_cause_id = closed->cause_id();
      row->closed_position = sourced.position.value;
      break;
    }
    default:
      break;  // an account event that changes nothing shown here
  }
  return Status::Ok();
}

void AccountsProjection::Flush(ProjectionWriter& out) {
  pages_.clear();
  for (const Touched& touched : touched_) pages_.push_back(PageOf(touched.account_id));
  std::sort(pages_.begin(), pages_.end());
  pages_.erase(std::unique(pages_.begin(), pages_.end()), pages_.end());
  for (const uint64_t page : pages_) {
    value_.assign(2, '\0');
    ValueWriter writer(value_);
    uint16_t rows_count = 0;
    for (uint64_t i = 0; i < kAccountsPerPage; ++i) {
      const uint64_t account_id = page * kAccountsPerPage + i;
      auto it = rows_.find(account_id);
      if (it == rows_.end()) continue;
      EncodeRow(writer, account_id, it->second);
      ++rows_count;
    }
    value_[0] = static_cast<char>(rows_count & 0xff);
    value_[1] = static_cast<char>(rows_count >> 8);
    key_ = PageKey(page);
    out.Put(key_, value_);
  }
  // Index pages whose lists changed: the old and the new place of every account that moved.
  index_pages_.clear();
  for (const Touched& touched : touched_) {
    const Row& row = rows_.at(touched.account_id);
    if (touched.existed && touched.employer_id == row.employer_id && touched.status == row.status) {
      continue;
    }
    const uint64_t page = PageOf(touched.account_id);
    if (touched.existed) {
      index_pages_.push_back(
          {true, touched.employer_id, static_cast<uint8_t>(touched.status), page});
      index_pages_.push_back({false, 0, static_cast<uint8_t>(touched.status), page});
    }
    index_pages_.push_back({true, row.employer_id, static_cast<uint8_t>(row.status), page});
    index_pages_.push_back({false, 0, static_cast<uint8_t>(row.status), page});
  }
  std::sort(index_pages_.begin(), index_pages_.end());
  index_pages_.erase(std::unique(index_pages_.begin(), index_pages_.end()), index_pages_.end());
  for (const IndexPage& index : index_pages_) {
    value_.clear();
    ValueWriter writer(value_);
    for (uint64_t i = 0; i < kAccountsPerPage; ++i) {
      const uint64_t account_id = index.page * kAccountsPerPage + i;
      auto it = rows_.find(account_id);
      if (it == rows_.end() || static_cast<uint8_t>(it->second.status) != index.status) continue;
      if (index.by_employer && it->second.employer_id != index.employer_id) continue;
      writer.U64(account_id);
    }
    if (index.by_employer) {
      EmployerIndexKey(key_, index.employer_id, index.status, index.page);
    } else {
      StatusIndexKey(key_, index.status, index.page);
    }
    if (value_.empty()) {
      out.Delete(key_);
    } else {
      out.Put(key_, value_);
    }
  }
  for (const EmployerMark& mark : employer_marks_) {
    value_.clear();
    ValueWriter(value_).U32(mark.paid_up_to_month);
    out.Put(EmployerMonthKey(mark.employer_id, mark.position), value_);
    if (mark.remittance_id != 0) {
      value_.clear();
      ValueWriter(value_).U64(mark.position);
      out.Put(CompletionKey(mark.employer_id, mark.remittance_id), value_);
    }
  }
  employer_marks_.clear();
  touched_.clear();
  std::sort(withdrawal_pages_.begin(), withdrawal_pages_.end());
  withdrawal_pages_.erase(std::unique(withdrawal_pages_.begin(), withdrawal_pages_.end()),
                          withdrawal_pages_.end());
  for (const uint64_t page : withdrawal_pages_) {
    value_.assign(2, '\0');
    ValueWriter writer(value_);
    uint16_t count = 0;
    for (uint64_t i = 0; i < kAccountsPerPage; ++i) {
      const uint64_t account_id = page * kAccountsPerPage + i;
      auto it = withdrawals_.find(account_id);
      if (it == withdrawals_.end()) continue;
      EncodeWithdrawals(writer, account_id, it->second);
      ++count;
    }
    value_[0] = static_cast<char>(count & 0xff);
    value_[1] = static_cast<char>(count >> 8);
    if (count == 0) {
      out.Delete(WithdrawalsKey(page));
    } else {
      out.Put(WithdrawalsKey(page), value_);
    }
  }
  withdrawal_pages_.clear();
  for (const auto& [version, table] : tables_to_store_) {
    EncodeRateTable(value_, table);
    out.Put(PolicyKey(version), value_);
  }
  tables_to_store_.clear();
}

Status AccountsProjection::Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) {
  ++batch_;
  if (!policy_stored_) {
    // The table in force before the log's first PolicyChanged, for the queries.
    tables_to_store_.emplace_back(0, options_.personal_rate_table);
    policy_stored_ = true;
  }
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  Flush(out);
  return Status::Ok();
}

Result<std::optional<AccountSummary>> GetAccount(const ReadView& view, uint64_t account_id) {
  RowReader reader(view);
  HPF_ASSIGN_OR_RETURN(std::optional<Row> row, reader.Find(account_id));
  if (!row.has_value()) return std::optional<AccountSummary>();
  HPF_ASSIGN_OR_RETURN(AccountSummary summary, reader.Summary(account_id, *row));
  return std::optional<AccountSummary>(std::move(summary));
}

Result<Page<AccountSummary>> ListAccounts(const ReadView& view, const AccountFilter& filter,
                                          const PageRequest& page) {
  HPF_RETURN_IF_ERROR(CheckPageRequest(page));
  // The index to walk, and how its keys after the prefix read as a cursor: the account id, or
  // (status, account id) when an employer's accounts of every status are listed.
  std::string prefix;
  bool status_in_key = false;
  if (filter.employer_id.has_value()) {
    prefix.assign(kEmployerIndexPrefix);
    AppendKey64(prefix, *filter.employer_id);
    if (filter.status.has_value()) {
      AppendKey8(prefix, static_cast<uint8_t>(*filter.status));
    } else {
      status_in_key = true;
    }
  } else if (filter.status.has_value()) {
    prefix.assign(kStatusIndexPrefix);
    AppendKey8(prefix, static_cast<uint8_t>(*filter.status));
  }
  std::vector<uint64_t> cursor;
  if (!page.after.empty()) {
    HPF_ASSIGN_OR_RETURN(cursor, ParseCursor(page.after, status_in_key ? 2 : 1));
    if (status_in_key && cursor[0] > 0xff) {
      return InvalidArgumentError(fmt::format("cursor \"{}\": no such status", page.after));
    }
  }
  const uint64_t cursor_id = cursor.empty() ? 0 : cursor.back();
  const uint64_t cursor_status = status_in_key && !cursor.empty() ? cursor[0] : 0;
  Page<AccountSummary> result;
  bool more = false;
  Status failed = Status::Ok();
  if (prefix.empty()) {
    // Every account: walk the pages from the one holding the cursor (Scan() starts after the
    // key it is given, so from the page before it), skipping ids up to the cursor.
    std::string start;
    if (!cursor.empty() && PageOf(cursor_id) > 0) start = PageKey(PageOf(cursor_id) - 1);
    RowReader withdrawals(view);
    HPF_RETURN_IF_ERROR(
        view.Scan(kRowPrefix, start, [&](std::string_view key, std::string_view value) {
          uint64_t page_id = 0;
          if (key.size() != kRowPrefix.size() + 8 || !ReadKey64(key, kRowPrefix.size(), &page_id)) {
            failed = CorruptionError("accounts: malformed page key");
            return false;
          }
          failed = DecodePage(value, page_id, [&](uint64_t id, Row&& row) {
            if (more || (!cursor.empty() && id <= cursor_id)) return;
            if (result.items.size() == page.limit) {
              more = true;
              return;
            }
            auto summary = withdrawals.Summary(id, row);
            if (!summary.has_value()) {
              failed = summary.error();
              more = true;  // stops the walk
              return;
            }
            result.items.push_back(std::move(summary).value());
          });
          return failed.ok() && !more;
        }));
  } else {
    // Index pages from the cursor's (status and) page on.
    std::string start;
    if (!cursor.empty()) {
      start = prefix;
      if (status_in_key) AppendKey8(start, static_cast<uint8_t>(cursor_status));
      if (PageOf(cursor_id) > 0) AppendKey64(start, PageOf(cursor_id) - 1);
    }
    const size_t key_size = prefix.size() + (status_in_key ? 1 : 0) + 8;
    RowReader rows(view);
    HPF_RETURN_IF_ERROR(view.Scan(prefix, start, [&](std::string_view key, std::string_view value) {
      if (key.size() != key_size || value.size() % 8 != 0) {
        failed = CorruptionError("accounts: malformed index entry");
        return false;
      }
      const uint64_t status = status_in_key ? static_cast<uint8_t>(key[prefix.size()]) : 0;
      ValueReader ids(value);
      while (!ids.at_end()) {
        const uint64_t account_id = ids.U64();
        if (!cursor.empty() &&
            (status < cursor_status || (status == cursor_status && account_id <= cursor_id))) {
          continue;
        }
        if (result.items.size() == page.limit) {
          more = true;
          return false;
        }
        auto row = rows.Find(account_id);
        if (!row.has_value()) {
          failed = row.error();
          return false;
        }
        if (!row->has_value()) {
          failed = CorruptionError(
              fmt::format("accounts: index names account {} without a row", account_id));
          return false;
        }
        auto summary = rows.Summary(account_id, **row);
        if (!summary.has_value()) {
          failed = summary.error();
          return false;
        }
        result.items.push_back(std::move(summary).value());
      }
      return true;
    }));
  }
  HPF_RETURN_IF_ERROR(failed);
  if (more && !result.items.empty()) {
    const AccountSummary& last = result.items.back();
    result.next = status_in_key
                      ? FormatCursor({static_cast<uint64_t>(last.status), last.account_id})
                      : FormatCursor({last.account_id});
  }
  return result;
}

Result<AccruedInterest> InterestAccrued(const ReadView& view, uint64_t account_id,
                                        ledger::Date until, ledger::DayBasis day_basis) {
  RowReader reader(view);
  HPF_ASSIGN_OR_RETURN(std::optional<Row> row, reader.Find(account_id));
  if (!row.has_value()) {
    return NotFoundError(fmt::format("account {} was never opened", account_id));
  }
  if (row->status == AccountStatus::kClosed) {
    return FailedPreconditionError(fmt::format(
        "account {} was closed on {}: it has no open interest year (a closing withdrawal's "
        "interest to date is on its statement)",
        account_id, ledger::Date::FromYyyymmdd(row->closed_date).value().ToIsoString()));
  }
  const ledger::InterestYear year = OpenYear(*row);
  if (until < year.FirstDay() || until > year.CreditValueDate()) {
    return FailedPreconditionError(fmt::format(
        "account {}'s open interest year runs {} to {}: interest to {} is {}", account_id,
        year.FirstDay().ToIsoString(), year.LastDay().ToIsoString(), until.ToIsoString(),
        until < year.FirstDay() ? "in a settled year (see its year-end credit)"
                                : "not known before this year is settled"));
  }
  if (LatestValueDate(*row) > until) {
    return FailedPreconditionError(
        fmt::format("account {} has money value-dated {}, after {}: a closing withdrawal is not "
                    "paid before money it holds counts",
                    account_id, LatestValueDate(*row).ToIsoString(), until.ToIsoString()));
  }
  // The rate table in force: the last one stored (DefaultPersonalRateTable() before any).
  std::vector<ledger::RateSegment> rate_table = DefaultPersonalRateTable();
  HPF_RETURN_IF_ERROR(ScanRateTables(
      view, [&](uint32_t, std::vector<ledger::RateSegment>&& t) { rate_table = std::move(t); }));
  HPF_ASSIGN_OR_RETURN(
      const ledger::InterestAccumulator interest,
      Accumulate(year, row->interest_opening_fen, row->interest_deltas, rate_table));
  AccruedInterest accrued{.account_id = account_id,
                          .interest_year = year,
                          .from = year.FirstDay(),
                          .until = until,
                          .day_basis = day_basis,
                          .segments = interest.SegmentsUntil(until),
                          .fen_days = {},
                          .interest = {},
                          .balance = ledger::Fen{row->balance_fen}};
  HPF_ASSIGN_OR_RETURN(const Withdrawals* withdrawals, reader.FindWithdrawals(account_id));
  if (withdrawals != nullptr) accrued.balance -= ledger::Fen{withdrawals->paid_fen};
  for (const ledger::InterestSegment& segment : accrued.segments) {
    accrued.fen_days.value += segment.fen_days.value;
  }
  accrued.interest = ledger::InterestOn(accrued.segments, day_basis);
  return accrued;
}

}  // namespace hpf::projections::read_models
