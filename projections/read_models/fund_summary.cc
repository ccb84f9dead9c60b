// projections/read_models/fund_summary.cc
#include "projections/read_models/fund_summary.h"

#include <algorithm>
#include <tuple>

#include <fmt/core.h>

#include "events/assert.h"
#include "projections/read_models/internal/blocks.h"
#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/record_fields.h"
#include "projections/read_models/limits.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey32;
using internal::AppendKey64;
using internal::ReadKey32;
using internal::ReadKey64;
using internal::RecordError;
using internal::ValueReader;
using internal::ValueWriter;
using Day = FundSummaryProjection::Day;

constexpr std::string_view kDayPrefix = "d/";
constexpr std::string_view kBackPaymentPrefix = "p/";
constexpr std::string_view kAccountPrefix = "s/";
constexpr std::string_view kEmployerPrefix = "m/";

constexpr uint8_t kNormal = 1;
constexpr uint8_t kSealed = 2;
constexpr uint8_t kClosed = 3;

void EncodeDay(std::string& out, const Day& day) {
  out.clear();
  ValueWriter writer(out);
  writer.I64(day.contributions_fen);
  writer.I64(day.contributions_count);
  writer.I64(day.back_payments_fen);
  writer.I64(day.back_payments_count);
  writer.I64(day.receipts_fen);
  writer.I64(day.interest_credited_fen);
  writer.I64(day.personal_accounts_fen);
  writer.I64(day.suspense_fen);
  writer.I64(day.employers_paying);
  writer.I64(day.accounts_paying);
  writer.I64(day.interest_to_date_fen);
  writer.I64(day.accounts_closed);
  HPF_ASSERT(day.withdrawals.size() <= UINT8_MAX);
  writer.U8(static_cast<uint8_t>(day.withdrawals.size()));
  for (const FundSummaryProjection::ReasonFlow& flow : day.withdrawals) {
    writer.U8(flow.reason);
    writer.I64(flow.count);
    writer.I64(flow.amount_fen);
  }
}

Status DecodeDay(std::string_view value, uint32_t date, Day* day) {
  ValueReader reader(value);
  day->contributions_fen = reader.I64();
  day->contributions_count = reader.I64();
  day->back_payments_fen = reader.I64();
  day->back_payments_count = reader.I64();
  day->receipts_fen = reader.I64();
  day->interest_credited_fen = reader.I64();
  day->personal_accounts_fen = reader.I64();
  day->suspense_fen = reader.I64();
  day->employers_paying = reader.I64();
  day->accounts_paying = reader.I64();
  day->interest_to_date_fen = reader.I64();
  day->accounts_closed = reader.I64();
  const uint8_t reasons = reader.U8();
  day->withdrawals.clear();
  for (uint8_t i = 0; i < reasons && reader.ok(); ++i) {
    FundSummaryProjection::ReasonFlow flow;
    flow.reason = reader.U8();
    flow.count = reader.I64();
    flow.amount_fen = reader.I64();
    day->withdrawals.push_back(flow);
  }
  return reader.Finish(fmt::format("fund summary of {}", date));
}

// Visits "<prefix><u64 id>" → u8 state values.
Status ScanStates(const ReadView& stored, std::string_view prefix,
                  std::unordered_map<uint64_t, uint8_t>& states) {
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(stored.Scan(prefix, "", [&](std::string_view key, std::string_view value) {
    uint64_t id = 0;
    if (key.size() != prefix.size() + 8 || !ReadKey64(key, prefix.size(), &id) ||
        value.size() != 1 || value[0] < 1 || value[0] > 3) {
      decoded = CorruptionError(fmt::format("fund summary: malformed state under \"{}\"", prefix));
      return false;
    }
    states[id] = static_cast<uint8_t>(value[0]);
    return true;
  }));
  return decoded;
}

}  // namespace

Status FundSummaryProjection::Load(const ReadView& stored) {
  days_.clear();
  dirty_days_.clear();
  back_payments_.clear();
  dirty_buckets_.clear();
  account_states_.clear();
  employer_states_.clear();
  touched_accounts_.clear();
  touched_employers_.clear();
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(kDayPrefix, "", [&](std::string_view key, std::string_view value) {
        uint32_t date = 0;
        if (key.size() != kDayPrefix.size() + 4 || !ReadKey32(key, kDayPrefix.size(), &date)) {
          decoded = CorruptionError("fund summary: malformed day key");
          return false;
        }
        decoded = DecodeDay(value, date, &days_[date]);
        return decoded.ok();
      }));
  HPF_RETURN_IF_ERROR(decoded);
  HPF_RETURN_IF_ERROR(
      stored.Scan(kBackPaymentPrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t bucket = 0;
        if (key.size() != kBackPaymentPrefix.size() + 8 ||
            !ReadKey64(key, kBackPaymentPrefix.size(), &bucket) || value.size() % 8 != 0) {
          decoded = CorruptionError("fund summary: malformed back-payment block");
          return false;
        }
        ValueReader reader(value);
        while (!reader.at_end()) back_payments_.insert(reader.U64());
        return true;
      }));
  HPF_RETURN_IF_ERROR(decoded);
  HPF_RETURN_IF_ERROR(ScanStates(stored, kAccountPrefix, account_states_));
  return ScanStates(stored, kEmployerPrefix, employer_states_);
}

Day& FundSummaryProjection::DayOf(uint32_t yyyymmdd) {
  Day& day = days_[yyyymmdd];
  if (!day.dirty) {
    day.dirty = true;
    dirty_days_.push_back(yyyymmdd);
  }
  return day;
}

void FundSummaryProjection::SetState(std::unordered_map<uint64_t, uint8_t>& states,
                                     std::vector<uint64_t>& touched, uint64_t id, uint8_t state) {
  states[id] = state;
  touched.push_back(id);
}

Status FundSummaryProjection::ApplyOne(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  HPF_ASSIGN_OR_RETURN(const ledger::Date effective, internal::EffectiveDateOf(sourced));
  Day& day = DayOf(effective.yyyymmdd());
  int64_t personal = 0;
  if (record.postings() != nullptr) {
    for (const schema::Posting* posting : *record.postings()) {
      const int64_t credit =
          posting->side() == schema::Side::Credit ? posting->amount_fen() : -posting->amount_fen();
      switch (posting->gl_account()) {
        case internal::kGlPersonalAccounts:
          personal += credit;
          break;
        case internal::kGlSuspense:
          day.suspense_fen += credit;
          break;
        case internal::kGlInterestToPersonal:
          day.interest_credited_fen -= credit;
          break;
        default:
          break;
      }
    }
  }
  day.personal_accounts_fen += personal;
  const uint64_t stream_id = envelope.stream_id();
  auto paying = [&](std::unordered_map<uint64_t, uint8_t>& states, std::vector<uint64_t>& touched,
                    int64_t Day::*count, uint8_t state) {
    auto it = states.find(stream_id);
    const uint8_t before = it == states.end() ? 0 : it->second;
    day.*count += (state == kNormal ? 1 : 0) - (before == kNormal ? 1 : 0);
    if (count == &Day::accounts_paying) {
      day.accounts_closed += (state == kClosed ? 1 : 0) - (before == kClosed ? 1 : 0);
    }
    SetState(states, touched, stream_id, state);
  };
  switch (record.payload_type()) {
    case schema::Event::ContributionAllocated: {
      const auto* allocated = record.payload_as_ContributionAllocated();
      const int64_t amount = allocated->employer_amount_fen() + allocated->employee_amount_fen();
      day.contributions_fen += amount;
      ++day.contributions_count;
      if (allocated->business_type() == schema::BusinessType::BackPayment) {
        day.back_payments_fen += amount;
        ++day.back_payments_count;
        back_payments_.insert(sourced.position.value);
        dirty_buckets_.push_back(internal::BucketOf(sourced.position.value));
      }
      break;
    }
    case schema::Event::WithdrawalPaid: {
      const auto* paid = record.payload_as_WithdrawalPaid();
      const auto reason = static_cast<uint8_t>(paid->reason());
      auto flow = std::lower_bound(
          day.withdrawals.begin(), day.withdrawals.end(), reason,
          [](const FundSummaryProjection::ReasonFlow& f, uint8_t r) { return f.reason < r; });
      if (flow == day.withdrawals.end() || flow->reason != reason) {
        flow = day.withdrawals.insert(flow, {.reason = reason});
      }
      ++flow->count;
      flow->amount_fen += paid->amount_fen();
      break;
    }
    case schema::Event::InterestToDateCredited:
      day.interest_to_date_fen += record.payload_as_InterestToDateCredited()->interest_fen();
      break;
    case schema::Event::BankReceiptRecorded:
      day.receipts_fen += record.payload_as_BankReceiptRecorded()->amount_fen();
      break;
    case schema::Event::RecordReversed: {
      const uint64_t reversed = record.payload_as_RecordReversed()->reversed_position();
      if (internal::HasPostingTo(record, internal::kGlSuspense) && personal < 0) {
        // An allocation's reversal: Dr 201 / Cr 219.
        day.contributions_fen += personal;
        --day.contributions_count;
        if (back_payments_.erase(reversed) == 1) {
          day.back_payments_fen += personal;
          --day.back_payments_count;
          dirty_buckets_.push_back(internal::BucketOf(reversed));
        }
      } else if (internal::HasPostingTo(record, internal::kGlSuspense) &&
                 internal::HasPostingTo(record, internal::kGlFundDeposits)) {
        // A receipt's reversal: Dr 219 / Cr 101.
        day.receipts_fen += internal::NetCredit(record, internal::kGlSuspense,
                                                schema::EntityKind::Employer, stream_id);
      }
      break;
    }
    case schema::Event::AccountOpened:
    case schema::Event::AccountUnsealed:
      paying(account_states_, touched_accounts_, &Day::accounts_paying, kNormal);
      break;
    case schema::Event::AccountSealed:
      paying(account_states_, touched_accounts_, &Day::accounts_paying, kSealed);
      break;
    case schema::Event::AccountClosed:
      paying(account_states_, touched_accounts_, &Day::accounts_paying, kClosed);
      break;
    case schema::Event::EmployerRegistered:
    case schema::Event::EmployerReopened:
      paying(employer_states_, touched_employers_, &Day::employers_paying, kNormal);
      break;
    case schema::Event::EmployerSealed:
      paying(employer_states_, touched_employers_, &Day::employers_paying, kSealed);
      break;
    case schema::Event::EmployerClosed:
      paying(employer_states_, touched_employers_, &Day::employers_paying, kClosed);
      break;
    default:
      break;
  }
  return Status::Ok();
}

Status FundSummaryProjection::Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) {
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  for (const uint32_t date : dirty_days_) {
    Day& day = days_.at(date);
    day.dirty = false;
    EncodeDay(value_, day);
    key_.assign(kDayPrefix);
    AppendKey32(key_, date);
    out.Put(key_, value_);
  }
  dirty_days_.clear();
  std::sort(dirty_buckets_.begin(), dirty_buckets_.end());
  dirty_buckets_.erase(std::unique(dirty_buckets_.begin(), dirty_buckets_.end()),
                       dirty_buckets_.end());
  for (const uint64_t bucket : dirty_buckets_) {
    key_.assign(kBackPaymentPrefix);
    AppendKey64(key_, bucket);
    value_.clear();
    ValueWriter writer(value_);
    const uint64_t first = bucket * kBucketPositions + 1;
    for (auto it = back_payments_.lower_bound(first);
         it != back_payments_.end() && *it < first + kBucketPositions; ++it) {
      writer.U64(*it);
    }
    if (value_.empty()) {
      out.Delete(key_);
    } else {
      out.Put(key_, value_);
    }
  }
  dirty_buckets_.clear();
  for (auto [prefix, states, touched] :
       {std::make_tuple(kAccountPrefix, &account_states_, &touched_accounts_),
        std::make_tuple(kEmployerPrefix, &employer_states_, &touched_employers_)}) {
    std::sort(touched->begin(), touched->end());
    touched->erase(std::unique(touched->begin(), touched->end()), touched->end());
    for (const uint64_t id : *touched) {
      key_.assign(prefix);
      AppendKey64(key_, id);
      value_.assign(1, static_cast<char>(states->at(id)));
      out.Put(key_, value_);
    }
    touched->clear();
  }
  return Status::Ok();
}

Result<FundSummary> ReadFundSummary(const ReadView& view, const FundSummaryRequest& request) {
  if (request.from > request.to) {
    return InvalidArgumentError(fmt::format("period from {} is after to {}",
                                            request.from.ToIsoString(), request.to.ToIsoString()));
  }
  FundSummary summary{.as_of = request.as_of, .from = request.from, .to = request.to};
  const uint32_t as_of = request.as_of.yyyymmdd();
  const uint32_t from = request.from.yyyymmdd();
  const uint32_t to = request.to.yyyymmdd();
  const uint32_t last = std::max(as_of, to);
  Status failed = Status::Ok();
  HPF_RETURN_IF_ERROR(view.Scan(kDayPrefix, "", [&](std::string_view key, std::string_view value) {
    uint32_t date = 0;
    if (key.size() != kDayPrefix.size() + 4 || !ReadKey32(key, kDayPrefix.size(), &date)) {
      failed = CorruptionError("fund summary: malformed day key");
      return false;
    }
    if (date > last) return false;
    Day day;
    failed = DecodeDay(value, date, &day);
    if (!failed.ok()) return false;
    if (date <= as_of) {
      summary.paying_employers += day.employers_paying;
      summary.paying_employees += day.accounts_paying;
      summary.personal_accounts += ledger::Fen{day.personal_accounts_fen};
      summary.suspense += ledger::Fen{day.suspense_fen};
      summary.closed_accounts += day.accounts_closed;
    }
    if (date >= from && date <= to) {
      summary.contributions += ledger::Fen{day.contributions_fen};
      summary.contributions_count += day.contributions_count;
      summary.back_payments += ledger::Fen{day.back_payments_fen};
      summary.back_payments_count += day.back_payments_count;
      summary.receipts += ledger::Fen{day.receipts_fen};
      summary.interest_credited += ledger::Fen{day.interest_credited_fen};
      summary.interest_to_date += ledger::Fen{day.interest_to_date_fen};
      for (const FundSummaryProjection::ReasonFlow& flow : day.withdrawals) {
        auto it = std::lower_bound(summary.withdrawals_by_reason.begin(),
                                   summary.withdrawals_by_reason.end(), flow.reason,
                                   [](const FundSummary::ByReason& b, uint8_t r) {
                                     return static_cast<uint8_t>(b.reason) < r;
                                   });
        if (it == summary.withdrawals_by_reason.end() ||
            static_cast<uint8_t>(it->reason) != flow.reason) {
          it = summary.withdrawals_by_reason.insert(
              it, {.reason = static_cast<schema::WithdrawalReason>(flow.reason)});
        }
        it->count += flow.count;
        it->amount += ledger::Fen{flow.amount_fen};
        summary.withdrawals_count += flow.count;
        summary.withdrawals += ledger::Fen{flow.amount_fen};
      }
    }
    return true;
  }));
  HPF_RETURN_IF_ERROR(failed);
  return summary;
}

}  // namespace hpf::projections::read_models
