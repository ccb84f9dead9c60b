// ledger/internal/state_codec.cc
//
// Format 5 layouts (little-endian; u8 flags are 0 or 1; yyyymm / yyyymmdd as u32):
//   employer: u8 format, u8 status, u32 employer_rate_ppm, u32 employee_rate_ppm,
//             u32 paid_up_to_month, i64 suspense_fen, u32 normal_accounts,
//             u8 has_remittance [u64 remittance_id, u8 kind, u32 from_month, u32 to_month,
//                                i64 total_fen, i64 allocated_fen, u32 allocations],
//             u16 reductions_count, reductions_count × (u32 from_month, u32 to_month,
//                                                      u32 employer_rate_ppm,
//                                                      u32 employee_rate_ppm),
//             u16 deferrals_count, deferrals_count × (u32 from_month, u32 to_month),
//             u16 rate_changes_count (>= 1), × (u32 from_month, u32 employer_rate_ppm,
//                                               u32 employee_rate_ppm),
//             u64 last_remittance_id, u64 version
//   account:  u8 format, u8 status, u8 frozen, u64 employer_id, i64 contribution_base_fen,
//             i64 balance_fen, u32 paid_up_to_month,
//             u8 has_interest [i32 interest_year, u8 segments_count,
//                              segments_count × (u32 from_date, u32 rate_ppm, i64 fen_days),
//                              i64 balance_fen, u32 latest_value_date],
//             u16 base_changes_count (>= 1), × (u32 from_month, i64 base_fen),
//             u16 paid_runs_count, × (u32 from_month, u32 to_month, i64 base_fen),
//             u64 withdrawal_in_flight, u64 version
//   withdrawal: u8 format, u8 status (1-5), u64 account_id, u8 reason, u32 applicant_bytes,
//             applicant_bytes × u8 (at most kApplicantBytesMax), i64 held_fen, u64 version
//   reversed: u8 format (the key names the position; the value only marks it)
//   policy:   u8 format, u32 version (>= 1), u32 document_bytes, document_bytes × u8 (the
//             canonical document, ledger/policy.h PolicyToJson; at most
//             kPolicyDocumentBytesMax)
//   fund:     u8 format, u16 years_count, × (i32 interest_year, u32 accounts) ascending,
//             u16 runs_count, × (i32 interest_year, u32 accounts_count, u32 credited_count,
//                                i64 interest_total_fen, u8 completed) ascending,
//             u64 version
// History: format 1 had no base_changes (an account's base was one number), format 2 no
// paid_runs, format 3 no fund, format 4 no withdrawals.

#include "ledger/internal/state_codec.h"

#include <charconv>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "ledger/internal/codec_support.h"
#include "ledger/limits.h"
#include "ledger/record_encoding.h"

namespace hpf::ledger::internal {

// A field added to a state struct stops the build here: encode and decode it, and extend
// tests/ledger/state_codec_test.cc's round trip.
static_assert(FieldCount<State>() == 6, "store the new part of State (a key prefix of its own)");
static_assert(FieldCount<WithdrawalState>() == 6, "encode the new field of WithdrawalState");
static_assert(FieldCount<PolicyInForce>() == 3, "store the new field of PolicyInForce");
static_assert(FieldCount<FundState>() == 3, "encode the new field of FundState");
static_assert(FieldCount<SettlementRun>() == 4, "encode the new field of SettlementRun");
static_assert(FieldCount<EmployerState>() == 12, "encode the new field of EmployerState");
static_assert(FieldCount<MonthRange>() == 2, "encode the new field of MonthRange");
static_assert(FieldCount<RateReduction>() == 3, "encode the new field of RateReduction");
static_assert(FieldCount<OpenRemittanceState>() == 7, "encode the new field");
static_assert(FieldCount<AccountState>() == 11, "encode the new field of AccountState");
static_assert(FieldCount<PaidRun>() == 3, "encode the new field of PaidRun");
static_assert(FieldCount<BaseChange>() == 2, "encode the new field of BaseChange");
static_assert(FieldCount<InterestAccumulatorParts>() == 4, "encode the new field");
static_assert(FieldCount<InterestSegment>() == 3, "encode the new field of InterestSegment");

namespace {

// Entries keyed by month — an employer's grants (rate reductions, deferrals: they never
// overlap and last at least a month) and rate changes, an account's base changes (one month
// each, strictly increasing) and paid runs (disjoint, a month or more each) — number at most
// the months of the valid range (ledger/limits.h).
constexpr size_t kMonthEntriesMax = (kMonthYyyymmMax / 100 - kMonthYyyymmMin / 100 + 1) * 12;
static_assert(kMonthEntriesMax <= UINT16_MAX, "counted in a u16");
// Interest years (and the one an account carries into after the last): a few hundred.
constexpr size_t kInterestYearsMax = kInterestYearLast - kInterestYearFirst + 2;
static_assert(kInterestYearsMax <= UINT16_MAX, "counted in a u16");

std::string Key(std::string_view prefix, uint64_t id) { return fmt::format("{}{}", prefix, id); }

Result<uint64_t> ParseKey(std::string_view key, std::string_view prefix) {
  const auto bad = [&] {
    return CorruptionError(fmt::format("state key '{}' is not {}<decimal id>", key, prefix));
  };
  if (!key.starts_with(prefix)) return bad();
  const std::string_view digits = key.substr(prefix.size());
  if (digits.empty() || (digits.size() > 1 && digits.front() == '0')) return bad();
  uint64_t id = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return bad();
  return id;
}

// Collects the first problem of a decoded value; the decoder reads on and reports it once.
class Checker {
 public:
  explicit Checker(std::string_view what) : what_(what) {}

  void Require(bool ok, std::string_view problem) {
    if (!ok && problem_.empty()) problem_ = std::string(problem);
  }
  void Flag(uint8_t value, std::string_view field) {
    Require(value <= 1, fmt::format("{} is {}, not 0 or 1", field, value));
  }
  void MonthOrZero(uint32_t yyyymm, std::string_view field) {
    Require(yyyymm == 0 || ledger::Month::FromYyyymm(yyyymm).has_value(),
            fmt::format("{} {} is not a month", field, yyyymm));
  }
  void Rate(uint32_t ppm, std::string_view field) {
    Require(ppm <= kRatePpmMax, fmt::format("{} {} ppm is above {}", field, ppm, kRatePpmMax));
  }
  // A grant's months: two real months, in order.
  MonthRange Months(uint32_t from_month, uint32_t to_month, std::string_view field) {
    Require(ledger::Month::FromYyyymm(from_month).has_value() &&
                ledger::Month::FromYyyymm(to_month).has_value() && from_month <= to_month,
            fmt::format("{} months {}..{} are not a period", field, from_month, to_month));
    return MonthRange{from_month, to_month};
  }
  Date Day(uint32_t yyyymmdd, std::string_view field) {
    auto date = Date::FromYyyymmdd(yyyymmdd);
    Require(date.has_value(), fmt::format("{} {} is not a date", field, yyyymmdd));
    return date.has_value() ? *date : Date();
  }

  // The verdict once every field is read: the reader must have ended exactly at the end.
  Status Finish(const ByteReader& reader, size_t size) const {
    if (!reader.ok()) {
      return CorruptionError(fmt::format("{} state of {} bytes is truncated", what_, size));
    }
    if (reader.remaining() != 0) {
      return CorruptionError(
          fmt::format("{} state has {} bytes after its last field", what_, reader.remaining()));
    }
    if (!problem_.empty()) return CorruptionError(fmt::format("{} state: {}", what_, problem_));
    return Status::Ok();
  }

 private:
  std::string_view what_;
  std::string problem_;
};

Status CheckFormat(ByteReader& reader, std::string_view what) {
  if (reader.remaining() == 0) return CorruptionError(fmt::format("{} state is empty", what));
  const uint8_t format = reader.U8();
  if (format == 0) return CorruptionError(fmt::format("{} state has format 0", what));
  if (format < kStateFormat) {
    return UnimplementedError(fmt::format(
        "{} state has format {}, written by an older build; this build reads format {} only "
        "and has no migration: rebuild the data directory from the log with that build's "
        "commands",
        what, format, kStateFormat));
  }
  if (format > kStateFormat) {  // no build has written it: damage, or another program's
    return CorruptionError(fmt::format("{} state has format {}; this build reads format {}", what,
                                       format, kStateFormat));
  }
  return Status::Ok();
}

void EncodeInterest(ByteWriter& w, const InterestAccumulator& interest) {
  const InterestAccumulatorParts parts = interest.parts();
  HPF_ASSERT(parts.segments.size() <= kRateSegmentsPerYearMax);
  w.I32(parts.year.starting_year());
  w.U8(static_cast<uint8_t>(parts.segments.size()));
  for (const InterestSegment& segment : parts.segments) {
    w.U32(segment.from.yyyymmdd());
    w.U32(segment.rate.value);
    w.I64(segment.fen_days.value);
  }
  w.I64(parts.balance.value);
  w.U32(parts.latest_value_date.yyyymmdd());
}

// Reads an accumulator; on any problem records it in `check` and returns nullopt.
std::optional<InterestAccumulator> DecodeInterest(ByteReader& r, Checker& check) {
  const int32_t starting_year = r.I32();
  const uint8_t segments_count = r.U8();
  check.Require(segments_count <= kRateSegmentsPerYearMax,
                fmt::format("interest has {} segments, more than {}", segments_count,
                            kRateSegmentsPerYearMax));
  std::vector<InterestSegment> segments;
  for (uint8_t i = 0; i < segments_count && r.ok(); ++i) {
    InterestSegment segment;
    segment.from = check.Day(r.U32(), "interest segment from date");
    segment.rate = RatePpm{r.U32()};
    segment.fen_days = FenDays{r.I64()};
    segments.push_back(segment);
  }
  const Fen balance{r.I64()};
  const Date latest = check.Day(r.U32(), "interest latest value date");
  if (!r.ok()) return std::nullopt;  // truncated: Finish() reports it
  auto year = InterestYear::FromStartingYear(starting_year);
  if (!year.has_value()) {
    check.Require(false, fmt::format("interest year: {}", year.error().message()));
    return std::nullopt;
  }
  auto accumulator =
      InterestAccumulator::FromParts(InterestAccumulatorParts{.year = *year,
                                                              .segments = std::move(segments),
                                                              .balance = balance,
                                                              .latest_value_date = latest});
  if (!accumulator.has_value()) {
    check.Require(false, fmt::format("interest: {}", accumulator.error().message()));
    return std::nullopt;
  }
  return std::move(accumulator).value();
}

}  // namespace

std::string EmployerStateKey(EmployerId id) { return Key(kEmployerStatePrefix, id.value); }
std::string AccountStateKey(AccountId id) { return Key(kAccountStatePrefix, id.value); }
std::string ReversedStateKey(uint64_t position) { return Key(kReversedStatePrefix, position); }
std::string FundStateKey() { return Key(kFundStatePrefix, kFundStreamId); }
std::string WithdrawalStateKey(uint64_t id) { return Key(kWithdrawalStatePrefix, id); }

Result<uint64_t> ParseWithdrawalStateKey(std::string_view key) {
  return ParseKey(key, kWithdrawalStatePrefix);
}

Result<EmployerId> ParseEmployerStateKey(std::string_view key) {
  HPF_ASSIGN_OR_RETURN(const uint64_t id, ParseKey(key, kEmployerStatePrefix));
  return EmployerId{id};
}

Result<AccountId> ParseAccountStateKey(std::string_view key) {
  HPF_ASSIGN_OR_RETURN(const uint64_t id, ParseKey(key, kAccountStatePrefix));
  return AccountId{id};
}

Result<uint64_t> ParseReversedStateKey(std::string_view key) {
  return ParseKey(key, kReversedStatePrefix);
}

std::string EncodeReversedMark() { return std::string(1, static_cast<char>(kStateFormat)); }

std::string EncodeFundState(const FundState& fund) {
  std::string value;
  ByteWriter w(&value);
  w.U8(kStateFormat);
  HPF_ASSERT(fund.accounts_by_open_year.size() <= kInterestYearsMax);
  w.U16(static_cast<uint16_t>(fund.accounts_by_open_year.size()));
  for (const auto& [year, accounts] : fund.accounts_by_open_year) {
    w.I32(year);
    w.U32(accounts);
  }
  HPF_ASSERT(fund.runs.size() <= kInterestYearsMax);
  w.U16(static_cast<uint16_t>(fund.runs.size()));
  for (const auto& [year, run] : fund.runs) {
    w.I32(year);
    w.U32(run.accounts_count);
    w.U32(run.credited_count);
    w.I64(run.interest_total.value);
    w.U8(run.completed ? 1 : 0);
  }
  w.U64(fund.version);
  return value;
}

Result<FundState> DecodeFundState(std::string_view value) {
  ByteReader r(value);
  HPF_RETURN_IF_ERROR(CheckFormat(r, "fund"));
  Checker check("fund");
  FundState fund;
  const auto year_ok = [](int32_t year) {
    return year >= kInterestYearFirst && year <= kInterestYearLast + 1;  // + 1: carried into
  };
  const uint16_t years_count = r.U16();
  check.Require(years_count <= kInterestYearsMax,
                fmt::format("{} open years, more than {}", years_count, kInterestYearsMax));
  for (uint16_t i = 0; i < years_count && r.ok(); ++i) {
    const int32_t year = r.I32();
    const uint32_t accounts = r.U32();
    check.Require(year_ok(year), fmt::format("open year {} is not an interest year", year));
    check.Require(accounts > 0, fmt::format("open year {} counts no account", year));
    check.Require(
        fund.accounts_by_open_year.empty() || fund.accounts_by_open_year.rbegin()->first < year,
        "open years are not in order");
    fund.accounts_by_open_year.emplace(year, accounts);
  }
  const uint16_t runs_count = r.U16();
  check.Require(runs_count <= kInterestYearsMax,
                fmt::format("{} settlement runs, more than {}", runs_count, kInterestYearsMax));
  for (uint16_t i = 0; i < runs_count && r.ok(); ++i) {
    const int32_t year = r.I32();
    SettlementRun run;
    run.accounts_count = r.U32();
    run.credited_count = r.U32();
    run.interest_total = Fen{r.I64()};
    const uint8_t completed = r.U8();
    check.Flag(completed, "run completed flag");
    run.completed = completed == 1;
    check.Require(year_ok(year), fmt::format("run year {} is not an interest year", year));
    check.Require(fund.runs.empty() || fund.runs.rbegin()->first < year,
                  "settlement runs are not in order");
    check.Require(run.interest_total >= Fen{0},
                  fmt::format("run {} credited {} fen in total", year, run.interest_total.value));
    fund.runs.emplace(year, run);
  }
  fund.version = r.U64();
  HPF_RETURN_IF_ERROR(check.Finish(r, value.size()));
  return fund;
}

Status DecodeReversedMark(std::string_view value) {
  ByteReader r(value);
  HPF_RETURN_IF_ERROR(CheckFormat(r, "reversed position"));
  return Checker("reversed position").Finish(r, value.size());
}

std::string EncodePolicyState(const PolicyInForce& policy) {
  HPF_ASSERT(policy.version >= 1);
  HPF_ASSERT(policy.book != nullptr);
  HPF_ASSERT(policy.document.size() <= kPolicyDocumentBytesMax);
  std::string value;
  ByteWriter w(&value);
  w.U8(kStateFormat);
  w.U32(policy.version);
  w.String(policy.document);
  return value;
}

Result<PolicyInForce> DecodePolicyState(std::string_view value) {
  ByteReader r(value);
  HPF_RETURN_IF_ERROR(CheckFormat(r, "policy"));
  Checker check("policy");
  PolicyInForce policy;
  policy.version = r.U32();
  check.Require(policy.version >= 1, "version is 0 (a stored policy was recorded)");
  policy.document = std::string(r.String());
  check.Require(policy.document.size() <= kPolicyDocumentBytesMax,
                fmt::format("document of {} bytes, more than {}", policy.document.size(),
                            kPolicyDocumentBytesMax));
  HPF_RETURN_IF_ERROR(check.Finish(r, value.size()));
  auto book = ParsePolicy(policy.document);
  if (!book.has_value()) {
    return CorruptionError(
        fmt::format("policy state: the stored document (version {}) does not parse: {}",
                    policy.version, book.error().message()));
  }
  policy.book = std::make_shared<const PolicyBook>(std::move(book).value());
  return policy;
}

std::string EncodeEmployerState(const EmployerState& employer) {
  std::string value;
  ByteWriter w(&value);
  w.U8(kStateFormat);
  w.U8(static_cast<uint8_t>(employer.status));
  w.U32(employer.employer_rate.value);
  w.U32(employer.employee_rate.value);
  w.U32(employer.paid_up_to_month);
  w.I64(employer.suspense.value);
  w.U32(employer.normal_accounts);
  w.U8(employer.remittance.has_value() ? 1 : 0);
  if (employer.remittance.has_value()) {
    const OpenRemittanceState& remittance = *employer.remittance;
    w.U64(remittance.remittance_id);
    w.U8(static_cast<uint8_t>(remittance.kind));
    w.U32(remittance.from_month);
    w.U32(remittance.to_month);
    w.I64(remittance.total.value);
    w.I64(remittance.allocated.value);
    w.U32(remittance.allocations);
  }
  HPF_ASSERT(employer.reductions.size() <= kMonthEntriesMax);
  w.U16(static_cast<uint16_t>(employer.reductions.size()));
  for (const RateReduction& reduction : employer.reductions) {
    w.U32(reduction.months.from_month);
    w.U32(reduction.months.to_month);
    w.U32(reduction.employer_rate.value);
    w.U32(reduction.employee_rate.value);
  }
  HPF_ASSERT(employer.deferrals.size() <= kMonthEntriesMax);
  w.U16(static_cast<uint16_t>(employer.deferrals.size()));
  for (const MonthRange& deferral : employer.deferrals) {
    w.U32(deferral.from_month);
    w.U32(deferral.to_month);
  }
  HPF_ASSERT(!employer.rate_changes.empty());
  HPF_ASSERT(employer.rate_changes.size() <= kMonthEntriesMax);
  w.U16(static_cast<uint16_t>(employer.rate_changes.size()));
  for (const RateChange& change : employer.rate_changes) {
    w.U32(change.from_month);
    w.U32(change.employer_rate.value);
    w.U32(change.employee_rate.value);
  }
  w.U64(employer.last_remittance_id);
  w.U64(employer.version);
  return value;
}

Result<EmployerState> DecodeEmployerState(std::string_view value) {
  ByteReader r(value);
  HPF_RETURN_IF_ERROR(CheckFormat(r, "employer"));
  Checker check("employer");
  EmployerState employer;
  const uint8_t status = r.U8();
  check.Require(status >= 1 && status <= 3, fmt::format("status {} is not 1, 2 or 3", status));
  employer.status = static_cast<EmployerStatus>(status);
  employer.employer_rate = RatePpm{r.U32()};
  check.Rate(employer.employer_rate.value, "employer rate");
  employer.employee_rate = RatePpm{r.U32()};
  check.Rate(employer.employee_rate.value, "employee rate");
  employer.paid_up_to_month = r.U32();
  check.MonthOrZero(employer.paid_up_to_month, "paid-up-to month");
  employer.suspense = Fen{r.I64()};
  check.Require(employer.suspense >= Fen{0}, "suspense is negative");
  employer.normal_accounts = r.U32();
  const uint8_t has_remittance = r.U8();
  check.Flag(has_remittance, "remittance flag");
  if (has_remittance == 1) {
    OpenRemittanceState remittance;
    remittance.remittance_id = r.U64();
    const uint8_t kind = r.U8();
    check.Require(kind == 1 || kind == 2, fmt::format("remittance kind {} is not 1 or 2", kind));
    remittance.kind = static_cast<RemittanceKind>(kind);
    remittance.from_month = r.U32();
    check.MonthOrZero(remittance.from_month, "remittance from month");
    remittance.to_month = r.U32();
    check.MonthOrZero(remittance.to_month, "remittance to month");
    remittance.total = Fen{r.I64()};
    remittance.allocated = Fen{r.I64()};
    remittance.allocations = r.U32();
    employer.remittance = remittance;
  }
  const uint16_t reductions_count = r.U16();
  check.Require(
      reductions_count <= kMonthEntriesMax,
      fmt::format("{} rate reductions, more than {}", reductions_count, kMonthEntriesMax));
  for (uint16_t i = 0; i < reductions_count && r.ok(); ++i) {
    RateReduction reduction;
    const uint32_t from_month = r.U32();
    const uint32_t to_month = r.U32();
    reduction.months = check.Months(from_month, to_month, "rate reduction");
    reduction.employer_rate = RatePpm{r.U32()};
    check.Rate(reduction.employer_rate.value, "reduced employer rate");
    reduction.employee_rate = RatePpm{r.U32()};
    check.Rate(reduction.employee_rate.value, "reduced employee rate");
    employer.reductions.push_back(reduction);
  }
  const uint16_t deferrals_count = r.U16();
  check.Require(deferrals_count <= kMonthEntriesMax,
                fmt::format("{} deferrals, more than {}", deferrals_count, kMonthEntriesMax));
  for (uint16_t i = 0; i < deferrals_count && r.ok(); ++i) {
    const uint32_t from_month = r.U32();
    const uint32_t to_month = r.U32();
    employer.deferrals.push_back(check.Months(from_month, to_month, "deferral"));
  }
  const uint16_t changes_count = r.U16();
  check.Require(changes_count >= 1 && changes_count <= kMonthEntriesMax,
                fmt::format("{} rate changes, not 1 to {}", changes_count, kMonthEntriesMax));
  for (uint16_t i = 0; i < changes_count && r.ok(); ++i) {
    RateChange change;
    change.from_month = r.U32();
    check.MonthOrZero(change.from_month, "rate change month");
    check.Require(employer.rate_changes.empty() ||
                      employer.rate_changes.back().from_month < change.from_month,
                  "rate changes are not in month order");
    change.employer_rate = RatePpm{r.U32()};
    check.Rate(change.employer_rate.value, "changed employer rate");
    change.employee_rate = RatePpm{r.U32()};
    check.Rate(change.employee_rate.value, "changed employee rate");
    employer.rate_changes.push_back(change);
  }
  employer.last_remittance_id = r.U64();
  check.Require(!employer.remittance.has_value() ||
                    employer.remittance->remittance_id == employer.last_remittance_id,
                "the open list is not the last one opened");
  employer.version = r.U64();
  check.Require(employer.version >= 1, "version is 0 (every employer has its registration)");
  HPF_RETURN_IF_ERROR(check.Finish(r, value.size()));
  return employer;
}

std::string EncodeAccountState(const AccountState& account) {
  std::string value;
  // A year of monthly money: ~60 bytes of fields, a segment or two, a few runs and changes.
  value.reserve(256);
  ByteWriter w(&value);
  w.U8(kStateFormat);
  w.U8(static_cast<uint8_t>(account.status));
  w.U8(account.frozen ? 1 : 0);
  w.U64(account.employer.value);
  w.I64(account.contribution_base.value);
  w.I64(account.balance.value);
  w.U32(account.paid_up_to_month);
  w.U8(account.interest.has_value() ? 1 : 0);
  if (account.interest.has_value()) EncodeInterest(w, *account.interest);
  HPF_ASSERT(!account.base_changes.empty());
  HPF_ASSERT(account.base_changes.size() <= kMonthEntriesMax);
  w.U16(static_cast<uint16_t>(account.base_changes.size()));
  for (const BaseChange& change : account.base_changes) {
    w.U32(change.from_month);
    w.I64(change.base.value);
  }
  HPF_ASSERT(account.paid_runs.size() <= kMonthEntriesMax);
  w.U16(static_cast<uint16_t>(account.paid_runs.size()));
  for (const PaidRun& run : account.paid_runs) {
    w.U32(run.from_month);
    w.U32(run.to_month);
    w.I64(run.base.value);
  }
  w.U64(account.withdrawal_in_flight);
  w.U64(account.version);
  return value;
}

std::string EncodeWithdrawalState(const WithdrawalState& withdrawal) {
  HPF_ASSERT(withdrawal.applicant.size() <= kApplicantBytesMax);
  std::string value;
  ByteWriter w(&value);
  w.U8(kStateFormat);
  w.U8(static_cast<uint8_t>(withdrawal.status));
  w.U64(withdrawal.account.value);
  w.U8(static_cast<uint8_t>(withdrawal.reason));
  w.String(withdrawal.applicant);
  w.I64(withdrawal.held.value);
  w.U64(withdrawal.version);
  return value;
}

Result<WithdrawalState> DecodeWithdrawalState(std::string_view value) {
  ByteReader r(value);
  HPF_RETURN_IF_ERROR(CheckFormat(r, "withdrawal"));
  Checker check("withdrawal");
  WithdrawalState withdrawal;
  const uint8_t status = r.U8();
  check.Require(status >= 1 && status <= 5, fmt::format("status {} is not 1 to 5", status));
  withdrawal.status = static_cast<WithdrawalStatus>(status);
  withdrawal.account = AccountId{r.U64()};
  check.Require(withdrawal.account.value != 0, "account id 0");
  const uint8_t reason = r.U8();
  check.Require(IsWithdrawalReason(static_cast<WithdrawalReason>(reason)),
                fmt::format("reason {} is not a withdrawal reason", reason));
  withdrawal.reason = static_cast<WithdrawalReason>(reason);
  withdrawal.applicant = std::string(r.String());
  check.Require(!withdrawal.applicant.empty() && withdrawal.applicant.size() <= kApplicantBytesMax,
                fmt::format("applicant of {} bytes", withdrawal.applicant.size()));
  withdrawal.held = Fen{r.I64()};
  check.Require(withdrawal.held >= Fen{0}, "a negative hold");
  check.Require(withdrawal.held == Fen{0} || withdrawal.status == WithdrawalStatus::kApproved,
                "a hold on a withdrawal that is not approved");
  withdrawal.version = r.U64();
  check.Require(withdrawal.version >= 1, "version is 0 (every withdrawal has its application)");
  HPF_RETURN_IF_ERROR(check.Finish(r, value.size()));
  return withdrawal;
}

Result<AccountState> DecodeAccountState(std::string_view value) {
  ByteReader r(value);
  HPF_RETURN_IF_ERROR(CheckFormat(r, "account"));
  Checker check("account");
  AccountState account;
  const uint8_t status = r.U8();
  check.Require(status >= 1 && status <= 3, fmt::format("status {} is not 1, 2 or 3", status));
  account.status = static_cast<AccountStatus>(status);
  const uint8_t frozen = r.U8();
  check.Flag(frozen, "frozen flag");
  account.frozen = frozen == 1;
  account.employer = EmployerId{r.U64()};
  account.contribution_base = Fen{r.I64()};
  account.balance = Fen{r.I64()};
  account.paid_up_to_month = r.U32();
  check.MonthOrZero(account.paid_up_to_month, "paid-up-to month");
  const uint8_t has_interest = r.U8();
  check.Flag(has_interest, "interest flag");
  if (has_interest == 1) {
    account.interest = DecodeInterest(r, check);
    if (account.interest.has_value()) {
      check.Require(account.interest->balance() == account.balance,
                    fmt::format("interest balance {} differs from the balance {}",
                                account.interest->balance().value, account.balance.value));
    }
  }
  const uint16_t changes_count = r.U16();
  check.Require(changes_count >= 1 && changes_count <= kMonthEntriesMax,
                fmt::format("{} base changes, not 1 to {}", changes_count, kMonthEntriesMax));
  for (uint16_t i = 0; i < changes_count && r.ok(); ++i) {
    BaseChange change;
    change.from_month = r.U32();
    check.Require(ledger::Month::FromYyyymm(change.from_month).has_value(),
                  fmt::format("base change month {} is not a month", change.from_month));
    check.Require(
        account.base_changes.empty() || account.base_changes.back().from_month < change.from_month,
        "base changes are not in month order");
    change.base = Fen{r.I64()};
    check.Require(change.base > Fen{0}, fmt::format("base change of {} fen", change.base.value));
    account.base_changes.push_back(change);
  }
  check.Require(
      account.base_changes.empty() || account.base_changes.back().base == account.contribution_base,
      "the contribution base is not the latest base change's");
  const uint16_t runs_count = r.U16();
  check.Require(runs_count <= kMonthEntriesMax,
                fmt::format("{} paid runs, more than {}", runs_count, kMonthEntriesMax));
  for (uint16_t i = 0; i < runs_count && r.ok(); ++i) {
    const uint32_t from_month = r.U32();
    const uint32_t to_month = r.U32();
    const MonthRange months = check.Months(from_month, to_month, "paid run");
    const PaidRun run{
        .from_month = months.from_month, .to_month = months.to_month, .base = Fen{r.I64()}};
    check.Require(run.base > Fen{0}, fmt::format("a paid run of {} fen", run.base.value));
    if (!account.paid_runs.empty()) {
      const PaidRun& before = account.paid_runs.back();
      check.Require(before.to_month < run.from_month, "paid runs overlap or are not in order");
      // Runs that touch with the same base are one run (Evolve merges them). Plain
      // arithmetic: the months may be garbage here, the checks above report that.
      const uint32_t after =
          before.to_month % 100 == 12 ? (before.to_month / 100 + 1) * 100 + 1 : before.to_month + 1;
      check.Require(before.base != run.base || after != run.from_month,
                    "two paid runs that touch have the same base");
    }
    account.paid_runs.push_back(run);
  }
  account.withdrawal_in_flight = r.U64();
  account.version = r.U64();
  check.Require(account.version >= 1, "version is 0 (every account has its opening)");
  HPF_RETURN_IF_ERROR(check.Finish(r, value.size()));
  return account;
}

Result<State> LoadState(const events::EventLog& log) {
  State state;
  Status inner;
  // Keeps the code: an older format is Unimplemented, damage is Corruption.
  const auto fail = [&inner](std::string_view key, const Status& status) {
    inner = Status(status.code(), fmt::format("stored state '{}': {}", key, status.message()));
    return false;
  };
  // The policy first: accounts stored before its rate table last changed (and untouched
  // since) hold the table before it, and are re-rated as they are read.
  HPF_ASSIGN_OR_RETURN(const std::optional<std::string> policy, log.GetState(kPolicyStateKey));
  if (policy.has_value()) {
    auto decoded = DecodePolicyState(*policy);
    if (!decoded.has_value()) {
      return Status(decoded.error().code(), fmt::format("stored state '{}': {}", kPolicyStateKey,
                                                        decoded.error().message()));
    }
    state.policy = std::move(decoded).value();
  }
  const PolicyBook* book = state.policy.book.get();
  HPF_RETURN_IF_ERROR(
      log.ScanState(kEmployerStatePrefix, [&](std::string_view key, std::string_view value) {
        auto id = ParseEmployerStateKey(key);
        if (!id.has_value()) return fail(key, id.error());
        auto employer = DecodeEmployerState(value);
        if (!employer.has_value()) return fail(key, employer.error());
        state.employers.emplace(*id, std::move(employer).value());
        return true;
      }));
  HPF_RETURN_IF_ERROR(inner);
  HPF_RETURN_IF_ERROR(log.ScanState(kAccountStatePrefix, [&](std::string_view key,
                                                             std::string_view value) {
    auto id = ParseAccountStateKey(key);
    if (!id.has_value()) return fail(key, id.error());
    auto account = DecodeAccountState(value);
    if (!account.has_value()) return fail(key, account.error());
    if (book != nullptr && account->interest.has_value()) {
      if (Status rerated = account->interest->Rerate(book->personal_rate_table()); !rerated.ok()) {
        return fail(key, CorruptionError(
                             fmt::format("the stored policy (version {}) cannot apply to it: {}",
                                         state.policy.version, rerated.message())));
      }
    }
    state.accounts.emplace(*id, std::move(account).value());
    return true;
  }));
  HPF_RETURN_IF_ERROR(inner);
  HPF_RETURN_IF_ERROR(
      log.ScanState(kFundStatePrefix, [&](std::string_view key, std::string_view value) {
        auto id = ParseKey(key, kFundStatePrefix);
        if (!id.has_value()) return fail(key, id.error());
        if (*id != kFundStreamId) {
          return fail(key, CorruptionError(fmt::format("the fund's id is {}", kFundStreamId)));
        }
        auto fund = DecodeFundState(value);
        if (!fund.has_value()) return fail(key, fund.error());
        state.fund = std::move(fund).value();
        return true;
      }));
  HPF_RETURN_IF_ERROR(inner);
  HPF_RETURN_IF_ERROR(
      log.ScanState(kWithdrawalStatePrefix, [&](std::string_view key, std::string_view value) {
        auto id = ParseWithdrawalStateKey(key);
        if (!id.has_value()) return fail(key, id.error());
        auto withdrawal = DecodeWithdrawalState(value);
        if (!withdrawal.has_value()) return fail(key, withdrawal.error());
        state.withdrawals.emplace(*id, std::move(withdrawal).value());
        return true;
      }));
  HPF_RETURN_IF_ERROR(inner);
  HPF_RETURN_IF_ERROR(
      log.ScanState(kReversedStatePrefix, [&](std::string_view key, std::string_view value) {
        auto position = ParseReversedStateKey(key);
        if (!position.has_value()) return fail(key, position.error());
        const Status mark = DecodeReversedMark(value);
        if (!mark.ok()) return fail(key, mark);
        state.reversed_positions.insert(*position);
        return true;
      }));
  HPF_RETURN_IF_ERROR(inner);
  // What ties the entries together: one O(n) pass, once per open.
  std::map<EmployerId, uint32_t> normal_accounts;
  std::map<int32_t, uint32_t> accounts_by_open_year;
  for (const auto& [id, account] : state.accounts) {
    if (account.status != AccountStatus::kClosed && account.interest.has_value()) {
      ++accounts_by_open_year[account.interest->year().starting_year()];
    }
    if (state.employer(account.employer) == nullptr) {
      return CorruptionError(fmt::format("stored state '{}': its employer {} is not stored",
                                         AccountStateKey(id), account.employer.value));
    }
    if (account.status == AccountStatus::kNormal) ++normal_accounts[account.employer];
  }
  for (const auto& [id, employer] : state.employers) {
    const uint32_t counted = normal_accounts[id];
    if (employer.normal_accounts != counted) {
      return CorruptionError(
          fmt::format("stored state '{}': normal_accounts is {} but {} normal accounts are stored",
                      EmployerStateKey(id), employer.normal_accounts, counted));
    }
  }
  // A withdrawal in flight is its account's one, and the account names it.
  for (const auto& [id, withdrawal] : state.withdrawals) {
    const AccountState* account = state.account(withdrawal.account);
    if (account == nullptr) {
      return CorruptionError(fmt::format("stored state '{}': its account {} is not stored",
                                         WithdrawalStateKey(id), withdrawal.account.value));
    }
    const bool flying = withdrawal.status == WithdrawalStatus::kApplied ||
                        withdrawal.status == WithdrawalStatus::kApproved;
    if (flying != (account->withdrawal_in_flight == id)) {
      return CorruptionError(
          fmt::format("stored state '{}': status {} but its account {} has withdrawal {} in flight",
                      WithdrawalStateKey(id), static_cast<int>(withdrawal.status),
                      withdrawal.account.value, account->withdrawal_in_flight));
    }
  }
  for (const auto& [id, account] : state.accounts) {
    if (account.withdrawal_in_flight != 0 &&
        state.withdrawal(account.withdrawal_in_flight) == nullptr) {
      return CorruptionError(fmt::format("stored state '{}': withdrawal {} in flight is not stored",
                                         AccountStateKey(id), account.withdrawal_in_flight));
    }
  }
  if (state.fund.accounts_by_open_year != accounts_by_open_year) {
    return CorruptionError(fmt::format(
        "stored state '{}': its accounts by open interest year are not the {} accounts stored",
        FundStateKey(), state.accounts.size()));
  }
  return state;
}

}  // namespace hpf::ledger::internal
