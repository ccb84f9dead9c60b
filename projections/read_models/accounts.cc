// projections/read_models/accounts.cc
#include "projections/read_models/accounts.h"

#include <algorithm>

#include <fmt/core.h>

#include "events/assert.h"
#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/lifecycle_status.h"
#include "projections/read_models/internal/record_fields.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey64;
using internal::AppendKey8;
using internal::ReadKey64;
using internal::RecordError;
using internal::ValueReader;
using internal::ValueWriter;
using Row = AccountsProjection::Row;
using RegularAllocation = AccountsProjection::RegularAllocation;

constexpr std::string_view kRowPrefix = "r/";
constexpr std::string_view kEmployerIndexPrefix = "e/";
constexpr std::string_view kStatusIndexPrefix = "t/";
constexpr std::string_view kCompletionPrefix = "c/";
constexpr std::string_view kEmployerMonthPrefix = "h/";
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
  HPF_ASSERT(row.interest.has_value());
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
  const ledger::InterestAccumulator& interest = *row.interest;
  writer.I32(interest.year().starting_year());
  writer.U32(interest.latest_value_date().yyyymmdd());
  writer.I64(interest.balance().value);
  const auto segments = interest.segments();
  writer.U8(static_cast<uint8_t>(segments.size()));
  for (const ledger::InterestSegment& segment : segments) {
    writer.U32(segment.from.yyyymmdd());
    writer.U32(segment.rate.value);
    writer.I64(segment.fen_days.value);
  }
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
  const uint32_t latest = reader.U32();
  const int64_t interest_balance = reader.I64();
  const uint8_t segments_count = reader.U8();
  if (!reader.ok()) return reader.Finish(what);
  if (!ledger::Month::FromYyyymm(row->paid_up_to_month).has_value() ||
      !ledger::Date::FromYyyymmdd(row->opened_date).has_value()) {
    return ValueReader::Invalid(what, "paid-up-to month or opening date is not valid");
  }
  auto year = ledger::InterestYear::FromStartingYear(year_number);
  auto latest_date = ledger::Date::FromYyyymmdd(latest);
  if (!year.has_value() || !latest_date.has_value()) {
    return ValueReader::Invalid(what, "interest year or latest value date is not valid");
  }
  ledger::InterestAccumulatorParts parts{.year = *year,
                                         .segments = {},
                                         .balance = ledger::Fen{interest_balance},
                                         .latest_value_date = *latest_date};
  for (uint8_t i = 0; i < segments_count && reader.ok(); ++i) {
    const uint32_t from = reader.U32();
    const uint32_t rate = reader.U32();
    const int64_t fen_days = reader.I64();
    auto from_date = ledger::Date::FromYyyymmdd(from);
    if (!reader.ok()) break;
    if (!from_date.has_value()) return ValueReader::Invalid(what, "segment date is not valid");
    parts.segments.push_back(
        {.from = *from_date, .rate = ledger::RatePpm{rate}, .fen_days = ledger::FenDays{fen_days}});
  }
  if (!reader.ok()) return reader.Finish(what);
  if (interest_balance != row->balance_fen) {
    return ValueReader::Invalid(what, "the accumulator's balance is not the account's");
  }
  auto interest = ledger::InterestAccumulator::FromParts(std::move(parts));
  if (!interest.has_value()) return ValueReader::Invalid(what, interest.error().message());
  row->interest = std::move(interest).value();
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

Result<AccountSummary> Summarize(const ReadView& view, uint64_t account_id, const Row& row) {
  HPF_ASSIGN_OR_RETURN(const uint32_t paid_up_to_month, SettledPaidUpMonth(view, row));
  return AccountSummary{.account_id = account_id,
                        .employer_id = row.employer_id,
                        .status = row.status,
                        .frozen = row.frozen,
                        .contribution_base = ledger::Fen{row.contribution_base_fen},
                        .balance = ledger::Fen{row.balance_fen},
                        .paid_up_to_month = ledger::Month::FromYyyymm(paid_up_to_month).value(),
                        .opened_on = ledger::Date::FromYyyymmdd(row.opened_date).value(),
                        .interest_year = row.interest->year(),
                        .interest_credited = ledger::Fen{row.interest_credited_fen},
                        .last_position = row.last_position};
}

// Reads accounts by id, keeping the last page decoded (list queries visit neighbours).
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

 private:
  const ReadView& view_;
  bool loaded_ = false;
  uint64_t page_ = 0;
  std::vector<std::pair<uint64_t, Row>> rows_;
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
  return std::unique_ptr<AccountsProjection>(new AccountsProjection(std::move(options)));
}

Status AccountsProjection::Load(const ReadView& stored) {
  rows_.clear();
  touched_.clear();
  employer_marks_.clear();
  Status decoded = Status::Ok();
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

Status AccountsProjection::ApplyOne(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  const auto* postings = record.postings();
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
    row.interest.emplace(*year, options_.personal_rate_table, ledger::Fen{0});
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
  ledger::InterestAccumulator& interest = *row->interest;
  const ledger::InterestYear open_year = interest.year();
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
    interest.Apply(from, ledger::Fen{money});
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
      const auto ours = interest.segments();
      const auto* theirs = credited->segments();
      bool same = theirs != nullptr && theirs->size() == ours.size();
      for (size_t i = 0; same && i < ours.size(); ++i) {
        const schema::InterestSegment* segment =
            theirs->Get(static_cast<flatbuffers::uoffset_t>(i));
        same = segment->from_date() == ours[i].from.yyyymmdd() &&
               segment->rate_ppm() == ours[i].rate.value &&
               segment->accumulator_fen_days() == ours[i].fen_days.value;
      }
      if (!same) {
        return RecordError(sourced,
                           "its 积数 segments differ from the accumulator folded here: "
                           "the read model's rate table is not the ledger's, or a "
                           "record is missing");
      }
      if (open_year.starting_year() >= 2198) {
        return RecordError(sourced, "no interest year follows");
      }
      row->balance_fen += money;
      row->interest_credited_fen += money;
      row->interest =
          ledger::CarryForward(interest, ledger::Fen{money}, options_.personal_rate_table);
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
                       "know (TODO(#4): withdrawals and transfers)");
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
    case schema::Event::AccountClosed:
      row->status = AccountStatus::kClosed;
      break;
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
}

Status AccountsProjection::Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) {
  ++batch_;
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  Flush(out);
  return Status::Ok();
}

Result<std::optional<AccountSummary>> GetAccount(const ReadView& view, uint64_t account_id) {
  RowReader reader(view);
  HPF_ASSIGN_OR_RETURN(std::optional<Row> row, reader.Find(account_id));
  if (!row.has_value()) return std::optional<AccountSummary>();
  HPF_ASSIGN_OR_RETURN(AccountSummary summary, Summarize(view, account_id, *row));
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
            auto summary = Summarize(view, id, row);
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
        auto summary = Summarize(view, account_id, **row);
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
  const ledger::InterestAccumulator& interest = *row->interest;
  const ledger::InterestYear year = interest.year();
  if (until < year.FirstDay() || until > year.CreditValueDate()) {
    return FailedPreconditionError(fmt::format(
        "account {}'s open interest year runs {} to {}: interest to {} is {}", account_id,
        year.FirstDay().ToIsoString(), year.LastDay().ToIsoString(), until.ToIsoString(),
        until < year.FirstDay() ? "in a settled year (see its year-end credit)"
                                : "not known before this year is settled"));
  }
  if (interest.latest_value_date() > until) {
    return FailedPreconditionError(
        fmt::format("account {} has money value-dated {}, after {}: the accumulator holds the "
                    "balances as they stand, not as they were",
                    account_id, interest.latest_value_date().ToIsoString(), until.ToIsoString()));
  }
  AccruedInterest accrued{.account_id = account_id,
                          .interest_year = year,
                          .from = year.FirstDay(),
                          .until = until,
                          .day_basis = day_basis,
                          .segments = interest.SegmentsUntil(until),
                          .fen_days = {},
                          .interest = {},
                          .balance = ledger::Fen{row->balance_fen}};
  for (const ledger::InterestSegment& segment : accrued.segments) {
    accrued.fen_days.value += segment.fen_days.value;
  }
  accrued.interest = ledger::InterestOn(accrued.segments, day_basis);
  return accrued;
}

}  // namespace hpf::projections::read_models
