// projections/read_models/arrears_alerts.cc
#include "projections/read_models/arrears_alerts.h"

#include <algorithm>

#include <fmt/core.h>

#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/record_fields.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey32;
using internal::AppendKey64;
using internal::ReadKey32;
using internal::ReadKey64;
using internal::RecordError;
using internal::ValueReader;
using internal::ValueWriter;
using State = ArrearsAlertsProjection::State;

constexpr std::string_view kStatePrefix = "s/";
constexpr std::string_view kIndexPrefix = "i/";

std::string StateKey(uint64_t employer_id) {
  std::string key(kStatePrefix);
  AppendKey64(key, employer_id);
  return key;
}

void IndexKey(std::string& key, uint32_t month, uint64_t employer_id) {
  key.assign(kIndexPrefix);
  AppendKey32(key, month);
  AppendKey64(key, employer_id);
}

void EncodeState(std::string& out, const State& state) {
  out.clear();
  ValueWriter writer(out);
  writer.Text(state.name);
  writer.U8(static_cast<uint8_t>(state.status));
  writer.U32(state.status_date);
  writer.U64(state.status_position);
  writer.U32(state.paid_up_to_month);
  writer.U64(state.paid_up_position);
  WriteDeferrals(writer, state.deferrals);
  writer.U64(state.stream_version);
}

Status DecodeState(std::string_view value, uint64_t employer_id, State* state) {
  const std::string what = fmt::format("arrears state of employer {}", employer_id);
  ValueReader reader(value);
  state->name = reader.Text();
  const uint8_t status = reader.U8();
  state->status_date = reader.U32();
  state->status_position = reader.U64();
  state->paid_up_to_month = reader.U32();
  state->paid_up_position = reader.U64();
  HPF_RETURN_IF_ERROR(ReadDeferrals(reader, what, &state->deferrals));
  state->stream_version = reader.U64();
  HPF_RETURN_IF_ERROR(reader.Finish(what));
  if (status < 1 || status > 3 || !ledger::Month::FromYyyymm(state->paid_up_to_month)) {
    return ValueReader::Invalid(what, "status or paid-up-to month out of range");
  }
  if (state->status_date != 0 && !ledger::Date::FromYyyymmdd(state->status_date)) {
    return ValueReader::Invalid(what, "status date is not valid");
  }
  state->status = static_cast<EmployerStatus>(status);
  state->indexed_month = state->status == EmployerStatus::kClosed ? 0 : state->paid_up_to_month;
  return Status::Ok();
}

}  // namespace

Status ArrearsAlertsProjection::Load(const ReadView& stored) {
  states_.clear();
  touched_.clear();
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(kStatePrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t employer_id = 0;
        if (key.size() != kStatePrefix.size() + 8 ||
            !ReadKey64(key, kStatePrefix.size(), &employer_id)) {
          decoded = CorruptionError("arrears alerts: malformed state key");
          return false;
        }
        decoded = DecodeState(value, employer_id, &states_[employer_id]);
        return decoded.ok();
      }));
  return decoded;
}

Status ArrearsAlertsProjection::ApplyOne(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  if (envelope.stream_kind() != schema::EntityKind::Employer) return Status::Ok();
  const uint64_t employer_id = envelope.stream_id();
  const schema::Event type = record.payload_type();
  auto found = states_.find(employer_id);
  if (type == schema::Event::EmployerRegistered) {
    if (found != states_.end() ||
        record.payload_as_EmployerRegistered()->employer_id() != employer_id) {
      return RecordError(sourced, "registers an employer twice or off its stream");
    }
    found = states_.emplace(employer_id, State{}).first;
  } else if (found == states_.end()) {
    return RecordError(sourced, "the employer's stream has no EmployerRegistered");
  }
  State& state = found->second;
  if (envelope.stream_version() != state.stream_version + 1) {
    return RecordError(sourced, fmt::format("stream version {} does not follow {}: the source "
                                            "lost or reordered the employer's records",
                                            envelope.stream_version(), state.stream_version));
  }
  state.stream_version = envelope.stream_version();
  if (state.touched_batch != batch_) {
    state.touched_batch = batch_;
    touched_.push_back(employer_id);
  }
  HPF_ASSIGN_OR_RETURN(const ledger::Date effective, internal::EffectiveDateOf(sourced));
  auto paid_up_from_first = [&](uint32_t yyyymm) -> Status {
    HPF_ASSIGN_OR_RETURN(const ledger::Month first,
                         internal::MonthField(sourced, yyyymm, "first contribution month"));
    if (first.yyyymm() <= 199001) {
      return RecordError(sourced, "first contribution month has no month before it");
    }
    state.paid_up_to_month = first.Prev().yyyymm();
    state.paid_up_position = sourced.position.value;
    return Status::Ok();
  };
  switch (type) {
    case schema::Event::EmployerRegistered: {
      const auto* registered = record.payload_as_EmployerRegistered();
      state.name = registered->name() == nullptr ? std::string() : registered->name()->str();
      return paid_up_from_first(registered->first_contribution_month());
    }
    case schema::Event::EmployerDeferralGranted: {
      const auto* granted = record.payload_as_EmployerDeferralGranted();
      HPF_ASSIGN_OR_RETURN(const ledger::Month from,
                           internal::MonthField(sourced, granted->from_month(), "from month"));
      HPF_ASSIGN_OR_RETURN(const ledger::Month to,
                           internal::MonthField(sourced, granted->to_month(), "to month"));
      state.deferrals.push_back({from, to, sourced.position.value});
      return Status::Ok();
    }
    case schema::Event::EmployerSealed:
    case schema::Event::EmployerClosed:
      state.status =
          type == schema::Event::EmployerSealed ? EmployerStatus::kSealed : EmployerStatus::kClosed;
      state.status_date = effective.yyyymmdd();
      state.status_position = sourced.position.value;
      return Status::Ok();
    case schema::Event::EmployerReopened:
      state.status = EmployerStatus::kNormal;
      state.status_date = effective.yyyymmdd();
      state.status_position = sourced.position.value;
      return paid_up_from_first(record.payload_as_EmployerReopened()->first_contribution_month());
    case schema::Event::RemittanceCompleted: {
      const auto* completed = record.payload_as_RemittanceCompleted();
      if (completed->business_type() != schema::BusinessType::Remittance) return Status::Ok();
      HPF_ASSIGN_OR_RETURN(
          const ledger::Month month,
          internal::MonthField(sourced, completed->paid_up_to_month(), "paid-up-to month"));
      state.paid_up_to_month = month.yyyymm();
      state.paid_up_position = sourced.position.value;
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

Status ArrearsAlertsProjection::Apply(std::span<const SourcedRecord> records,
                                      ProjectionWriter& out) {
  ++batch_;
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  for (const uint64_t employer_id : touched_) {
    State& state = states_.at(employer_id);
    EncodeState(value_, state);
    out.Put(StateKey(employer_id), value_);
    const uint32_t month = state.status == EmployerStatus::kClosed ? 0 : state.paid_up_to_month;
    if (month == state.indexed_month) continue;
    if (state.indexed_month != 0) {
      IndexKey(key_, state.indexed_month, employer_id);
      out.Delete(key_);
    }
    if (month != 0) {
      IndexKey(key_, month, employer_id);
      out.Put(key_, "");
    }
    state.indexed_month = month;
  }
  touched_.clear();
  return Status::Ok();
}

Result<Page<ArrearsAlert>> ArrearsAlerts(const ReadView& view,
                                         const ArrearsAlertsRequest& request) {
  HPF_RETURN_IF_ERROR(CheckPageRequest(request.page));
  if (request.months_min == 0 || request.months_min > kArrearsAlertMonthsMax) {
    return InvalidArgumentError(fmt::format("months_min {} is outside 1 .. {}", request.months_min,
                                            kArrearsAlertMonthsMax));
  }
  // Paid up to month P, an employer is at most (as_of's month − 1) − P months behind: only
  // P <= as_of's month − 1 − months_min can be `months_min` behind.
  const ledger::Month as_of_month = ledger::MonthOf(request.as_of);
  const int64_t limit_index = int64_t{as_of_month.year()} * 12 + (as_of_month.month() - 1) - 1 -
                              int64_t{request.months_min};
  Page<ArrearsAlert> result;
  if (limit_index < int64_t{1990} * 12) return result;
  const auto limit_month = static_cast<uint32_t>((limit_index / 12) * 100 + limit_index % 12 + 1);
  std::string after;
  if (!request.page.after.empty()) {
    HPF_ASSIGN_OR_RETURN(const std::vector<uint64_t> cursor, ParseCursor(request.page.after, 2));
    if (cursor[0] > 0xffffffffu) return InvalidArgumentError("cursor: no such month");
    IndexKey(after, static_cast<uint32_t>(cursor[0]), cursor[1]);
  }
  bool more = false;
  Status failed = Status::Ok();
  HPF_RETURN_IF_ERROR(view.Scan(kIndexPrefix, after, [&](std::string_view key, std::string_view) {
    uint32_t month = 0;
    uint64_t employer_id = 0;
    if (key.size() != kIndexPrefix.size() + 12 || !ReadKey32(key, kIndexPrefix.size(), &month) ||
        !ReadKey64(key, kIndexPrefix.size() + 4, &employer_id)) {
      failed = CorruptionError("arrears alerts: malformed index key");
      return false;
    }
    if (month > limit_month) return false;
    auto value = view.Get(StateKey(employer_id));
    if (!value.has_value() || !value->has_value()) {
      failed = value.has_value()
                   ? CorruptionError(fmt::format(
                         "arrears alerts: index names employer {} without a state", employer_id))
                   : value.error();
      return false;
    }
    State state;
    failed = DecodeState(**value, employer_id, &state);
    if (!failed.ok()) return false;
    const ledger::Month paid_up = ledger::Month::FromYyyymm(state.paid_up_to_month).value();
    std::optional<ledger::Date> sealed_on;
    if (state.status == EmployerStatus::kSealed) {
      sealed_on = ledger::Date::FromYyyymmdd(state.status_date).value();
    }
    Arrears arrears = ArrearsAsOf({.paid_up_to_month = paid_up,
                                   .sealed_on = sealed_on,
                                   .closed = state.status == EmployerStatus::kClosed,
                                   .deferrals = state.deferrals},
                                  request.as_of);
    if (arrears.months_count < request.months_min) return true;
    if (result.items.size() == request.page.limit) {
      more = true;
      return false;
    }
    ArrearsAlert alert{.employer_id = employer_id,
                       .name = state.name,
                       .status = state.status,
                       .paid_up_to_month = paid_up,
                       .arrears = std::move(arrears),
                       .positions = {}};
    alert.positions.push_back(state.paid_up_position);
    if (sealed_on.has_value()) alert.positions.push_back(state.status_position);
    alert.positions.insert(alert.positions.end(), alert.arrears.deferral_positions.begin(),
                           alert.arrears.deferral_positions.end());
    std::sort(alert.positions.begin(), alert.positions.end());
    result.items.push_back(std::move(alert));
    return true;
  }));
  HPF_RETURN_IF_ERROR(failed);
  if (more) {
    const ArrearsAlert& last = result.items.back();
    result.next = FormatCursor({last.paid_up_to_month.yyyymm(), last.employer_id});
  }
  return result;
}

}  // namespace hpf::projections::read_models
