// projections/read_models/employers.cc
#include "projections/read_models/employers.h"

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
using Row = EmployersProjection::Row;
using AccountLink = EmployersProjection::AccountLink;

constexpr std::string_view kRowPrefix = "r/";
constexpr std::string_view kStatusIndexPrefix = "t/";
constexpr std::string_view kAccountPrefix = "a/";

constexpr uint8_t kAccountNormal = 1;
constexpr uint8_t kAccountSealed = 2;
constexpr uint8_t kAccountClosed = 3;

std::string RowKey(uint64_t employer_id) {
  std::string key(kRowPrefix);
  AppendKey64(key, employer_id);
  return key;
}

void StatusIndexKey(std::string& key, uint8_t status, uint64_t employer_id) {
  key.assign(kStatusIndexPrefix);
  AppendKey8(key, status);
  AppendKey64(key, employer_id);
}

uint8_t IndexedStatus(const Row& row) {
  return row.registered ? static_cast<uint8_t>(row.status) : 0;
}

void EncodeRow(std::string& out, const Row& row) {
  out.clear();
  ValueWriter writer(out);
  writer.U8(row.registered ? 1 : 0);
  writer.Text(row.name);
  writer.Text(row.unified_social_credit_code);
  writer.Text(row.bank_code);
  writer.U32(row.employer_rate_ppm);
  writer.U32(row.employee_rate_ppm);
  writer.U32(row.registered_date);
  writer.U32(row.first_contribution_month);
  writer.U8(static_cast<uint8_t>(row.status));
  writer.U32(row.status_date);
  writer.U32(row.paid_up_to_month);
  writer.U64(row.paid_up_position);
  writer.U64(row.open_remittance_id);
  WriteDeferrals(writer, row.deferrals);
  writer.I64(row.suspense_fen);
  writer.I64(row.accounts_normal);
  writer.I64(row.accounts_sealed);
  writer.I64(row.accounts_closed);
  writer.I64(row.accounts_frozen);
  writer.U64(row.stream_version);
}

Status DecodeRow(std::string_view value, uint64_t employer_id, Row* row) {
  const std::string what = fmt::format("employer {}", employer_id);
  ValueReader reader(value);
  const uint8_t registered = reader.U8();
  row->name = reader.Text();
  row->unified_social_credit_code = reader.Text();
  row->bank_code = reader.Text();
  row->employer_rate_ppm = reader.U32();
  row->employee_rate_ppm = reader.U32();
  row->registered_date = reader.U32();
  row->first_contribution_month = reader.U32();
  const uint8_t status = reader.U8();
  row->status_date = reader.U32();
  row->paid_up_to_month = reader.U32();
  row->paid_up_position = reader.U64();
  row->open_remittance_id = reader.U64();
  HPF_RETURN_IF_ERROR(ReadDeferrals(reader, what, &row->deferrals));
  row->suspense_fen = reader.I64();
  row->accounts_normal = reader.I64();
  row->accounts_sealed = reader.I64();
  row->accounts_closed = reader.I64();
  row->accounts_frozen = reader.I64();
  row->stream_version = reader.U64();
  HPF_RETURN_IF_ERROR(reader.Finish(what));
  if (registered > 1 || status < 1 || status > 3) {
    return ValueReader::Invalid(what, "registered flag or status out of range");
  }
  row->registered = registered == 1;
  row->status = static_cast<EmployerStatus>(status);
  if (row->registered && (!ledger::Month::FromYyyymm(row->paid_up_to_month).has_value() ||
                          !ledger::Date::FromYyyymmdd(row->registered_date).has_value())) {
    return ValueReader::Invalid(what, "paid-up-to month or registration date is not valid");
  }
  if (row->status_date != 0 && !ledger::Date::FromYyyymmdd(row->status_date).has_value()) {
    return ValueReader::Invalid(what, "status date is not valid");
  }
  return Status::Ok();
}

EmployerSummary Summarize(uint64_t employer_id, const Row& row, ledger::Date as_of) {
  EmployerSummary summary{.employer_id = employer_id,
                          .registered = row.registered,
                          .name = row.name,
                          .unified_social_credit_code = row.unified_social_credit_code,
                          .bank_code = row.bank_code,
                          .employer_rate_ppm = row.employer_rate_ppm,
                          .employee_rate_ppm = row.employee_rate_ppm,
                          .status = row.status,
                          .paid_up_position = row.paid_up_position,
                          .open_remittance_id = row.open_remittance_id,
                          .deferrals = row.deferrals,
                          .suspense = ledger::Fen{row.suspense_fen},
                          .accounts = {.normal = row.accounts_normal,
                                       .sealed = row.accounts_sealed,
                                       .closed = row.accounts_closed,
                                       .frozen = row.accounts_frozen}};
  if (row.status_date != 0) {
    summary.status_changed_on = ledger::Date::FromYyyymmdd(row.status_date).value();
  }
  if (row.registered) {
    summary.registered_on = ledger::Date::FromYyyymmdd(row.registered_date).value();
    summary.paid_up_to_month = ledger::Month::FromYyyymm(row.paid_up_to_month).value();
    summary.arrears =
        ArrearsAsOf({.paid_up_to_month = *summary.paid_up_to_month,
                     .sealed_on = row.status == EmployerStatus::kSealed ? summary.status_changed_on
                                                                        : std::nullopt,
                     .closed = row.status == EmployerStatus::kClosed,
                     .deferrals = row.deferrals},
                    as_of);
  }
  return summary;
}

void CountAccount(Row& row, const AccountLink& link, int64_t delta) {
  switch (link.status) {
    case kAccountNormal:
      row.accounts_normal += delta;
      break;
    case kAccountSealed:
      row.accounts_sealed += delta;
      break;
    case kAccountClosed:
      row.accounts_closed += delta;
      break;
    default:
      break;
  }
  if (link.frozen) row.accounts_frozen += delta;
}

}  // namespace

std::string_view EmployerStatusName(EmployerStatus status) {
  return internal::LifecycleStatusName(static_cast<uint8_t>(status));
}

Result<EmployerStatus> ParseEmployerStatus(std::string_view name) {
  HPF_ASSIGN_OR_RETURN(const uint8_t value,
                       internal::ParseLifecycleStatus("employer status", name));
  return static_cast<EmployerStatus>(value);
}

void WriteDeferrals(internal::ValueWriter& writer, std::span<const DeferralGrant> deferrals) {
  HPF_ASSERT(deferrals.size() <= UINT16_MAX);
  writer.U16(static_cast<uint16_t>(deferrals.size()));
  for (const DeferralGrant& grant : deferrals) {
    writer.U32(grant.from_month.yyyymm());
    writer.U32(grant.to_month.yyyymm());
    writer.U64(grant.position);
  }
}

Status ReadDeferrals(internal::ValueReader& reader, std::string_view what,
                     std::vector<DeferralGrant>* deferrals) {
  const uint16_t count = reader.U16();
  deferrals->clear();
  for (uint16_t i = 0; i < count && reader.ok(); ++i) {
    const uint32_t from = reader.U32();
    const uint32_t to = reader.U32();
    const uint64_t position = reader.U64();
    if (!reader.ok()) break;
    auto from_month = ledger::Month::FromYyyymm(from);
    auto to_month = ledger::Month::FromYyyymm(to);
    if (!from_month.has_value() || !to_month.has_value()) {
      return ValueReader::Invalid(what, "a deferral month is not valid");
    }
    deferrals->push_back({*from_month, *to_month, position});
  }
  return Status::Ok();
}

Status EmployersProjection::Load(const ReadView& stored) {
  rows_.clear();
  accounts_.clear();
  touched_.clear();
  touched_accounts_.clear();
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(kRowPrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t employer_id = 0;
        if (key.size() != kRowPrefix.size() + 8 ||
            !ReadKey64(key, kRowPrefix.size(), &employer_id)) {
          decoded = CorruptionError("employers: malformed row key");
          return false;
        }
        decoded = DecodeRow(value, employer_id, &rows_[employer_id]);
        return decoded.ok();
      }));
  HPF_RETURN_IF_ERROR(decoded);
  HPF_RETURN_IF_ERROR(
      stored.Scan(kAccountPrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t account_id = 0;
        if (key.size() != kAccountPrefix.size() + 8 ||
            !ReadKey64(key, kAccountPrefix.size(), &account_id)) {
          decoded = CorruptionError("employers: malformed account key");
          return false;
        }
        const std::string what = fmt::format("employers: account {}", account_id);
        ValueReader reader(value);
        AccountLink& link = accounts_[account_id];
        link.employer_id = reader.U64();
        link.status = reader.U8();
        const uint8_t frozen = reader.U8();
        decoded = reader.Finish(what);
        if (decoded.ok() && (link.status < 1 || link.status > 3 || frozen > 1)) {
          decoded = ValueReader::Invalid(what, "state out of range");
        }
        link.frozen = frozen == 1;
        return decoded.ok();
      }));
  return decoded;
}

Row& EmployersProjection::Touch(uint64_t employer_id) {
  Row& row = rows_[employer_id];
  if (row.touched_batch != batch_) {
    row.touched_batch = batch_;
    touched_.emplace_back(employer_id, IndexedStatus(row));
  }
  return row;
}

AccountLink& EmployersProjection::TouchAccount(uint64_t account_id) {
  AccountLink& link = accounts_[account_id];
  if (link.touched_batch != batch_) {
    link.touched_batch = batch_;
    touched_accounts_.push_back(account_id);
  }
  return link;
}

Status EmployersProjection::ApplyAccountRecord(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const uint64_t account_id = record.envelope()->stream_id();
  const schema::Event type = record.payload_type();
  if (type != schema::Event::AccountOpened && type != schema::Event::AccountSealed &&
      type != schema::Event::AccountUnsealed && type != schema::Event::AccountFrozen &&
      type != schema::Event::AccountUnfrozen && type != schema::Event::AccountClosed) {
    return Status::Ok();
  }
  const bool known = accounts_.contains(account_id);
  if (type == schema::Event::AccountOpened) {
    if (known) return RecordError(sourced, "the account is already open");
  } else if (!known) {
    return RecordError(sourced, "the account's stream has no AccountOpened");
  }
  AccountLink& link = TouchAccount(account_id);
  if (known && link.employer_id != 0) CountAccount(Touch(link.employer_id), link, -1);
  switch (type) {
    case schema::Event::AccountOpened:
      link.employer_id = record.payload_as_AccountOpened()->employer_id();
      link.status = kAccountNormal;
      break;
    case schema::Event::AccountSealed:
      link.status = kAccountSealed;
      break;
    case schema::Event::AccountUnsealed:
      link.employer_id = record.payload_as_AccountUnsealed()->employer_id();
      link.status = kAccountNormal;
      break;
    case schema::Event::AccountFrozen:
      link.frozen = true;
      break;
    case schema::Event::AccountUnfrozen:
      link.frozen = false;
      break;
    default:  // AccountClosed
      link.status = kAccountClosed;
      break;
  }
  if (link.employer_id != 0) CountAccount(Touch(link.employer_id), link, +1);
  return Status::Ok();
}

Status EmployersProjection::ApplyOne(const SourcedRecord& sourced) {
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  // Suspense (暂收): Σ of the employer's 219 postings, from whichever stream.
  if (record.postings() != nullptr) {
    for (const schema::Posting* posting : *record.postings()) {
      if (posting->gl_account() != internal::kGlSuspense) continue;
      if (posting->subledger_kind() != schema::EntityKind::Employer) {
        return RecordError(sourced, "a suspense (219) posting not on an employer");
      }
      Row& row = Touch(posting->subledger_id());
      row.suspense_fen +=
          posting->side() == schema::Side::Credit ? posting->amount_fen() : -posting->amount_fen();
    }
  }
  if (envelope.stream_kind() == schema::EntityKind::Account) return ApplyAccountRecord(sourced);
  if (envelope.stream_kind() != schema::EntityKind::Employer) return Status::Ok();

  const uint64_t employer_id = envelope.stream_id();
  Row& row = Touch(employer_id);
  if (envelope.stream_version() != row.stream_version + 1) {
    return RecordError(sourced, fmt::format("stream version {} does not follow {}: the source "
                                            "lost or reordered the employer's records",
                                            envelope.stream_version(), row.stream_version));
  }
  row.stream_version = envelope.stream_version();
  const schema::Event type = record.payload_type();
  if (type != schema::Event::EmployerRegistered && !row.registered) {
    return RecordError(sourced, "the employer's stream has no EmployerRegistered");
  }
  HPF_ASSIGN_OR_RETURN(const ledger::Date effective, internal::EffectiveDateOf(sourced));
  switch (type) {
    case schema::Event::EmployerRegistered: {
      const auto* registered = record.payload_as_EmployerRegistered();
      if (row.registered || registered->employer_id() != employer_id) {
        return RecordError(sourced, "registers an employer twice or off its stream");
      }
      HPF_ASSIGN_OR_RETURN(const ledger::Month first,
                           internal::MonthField(sourced, registered->first_contribution_month(),
                                                "first contribution month"));
      if (first.yyyymm() <= 199001) {
        return RecordError(sourced, "first contribution month has no month before it");
      }
      auto text = [](const flatbuffers::String* s) {
        return s == nullptr ? std::string() : s->str();
      };
      row.registered = true;
      row.name = text(registered->name());
      row.unified_social_credit_code = text(registered->unified_social_credit_code());
      row.bank_code = text(registered->bank_code());
      row.employer_rate_ppm = registered->employer_rate_ppm();
      row.employee_rate_ppm = registered->employee_rate_ppm();
      row.registered_date = effective.yyyymmdd();
      row.first_contribution_month = first.yyyymm();
      row.status = EmployerStatus::kNormal;
      row.paid_up_to_month = first.Prev().yyyymm();
      row.paid_up_position = sourced.position.value;
      break;
    }
    case schema::Event::EmployerRatesChanged: {
      const auto* changed = record.payload_as_EmployerRatesChanged();
      row.employer_rate_ppm = changed->employer_rate_ppm();
      row.employee_rate_ppm = changed->employee_rate_ppm();
      break;
    }
    case schema::Event::EmployerDeferralGranted: {
      const auto* granted = record.payload_as_EmployerDeferralGranted();
      HPF_ASSIGN_OR_RETURN(const ledger::Month from,
                           internal::MonthField(sourced, granted->from_month(), "from month"));
      HPF_ASSIGN_OR_RETURN(const ledger::Month to,
                           internal::MonthField(sourced, granted->to_month(), "to month"));
      row.deferrals.push_back({from, to, sourced.position.value});
      break;
    }
    case schema::Event::EmployerSealed:
      row.status = EmployerStatus::kSealed;
      row.status_date = effective.yyyymmdd();
      break;
    case schema::Event::EmployerReopened: {
      HPF_ASSIGN_OR_RETURN(
          const ledger::Month first,
          internal::MonthField(sourced,
                               record.payload_as_EmployerReopened()->first_contribution_month(),
                               "first contribution month"));
      if (first.yyyymm() <= 199001) {
        return RecordError(sourced, "first contribution month has no month before it");
      }
      row.status = EmployerStatus::kNormal;
      row.status_date = effective.yyyymmdd();
      row.paid_up_to_month = first.Prev().yyyymm();
      row.paid_up_position = sourced.position.value;
      break;
    }
    case schema::Event::EmployerClosed:
      row.status = EmployerStatus::kClosed;
      row.status_date = effective.yyyymmdd();
      break;
    case schema::Event::RemittanceOpened:
      row.open_remittance_id = record.payload_as_RemittanceOpened()->remittance_id();
      break;
    case schema::Event::RemittanceCompleted: {
      const auto* completed = record.payload_as_RemittanceCompleted();
      row.open_remittance_id = 0;
      if (completed->business_type() == schema::BusinessType::Remittance) {
        HPF_ASSIGN_OR_RETURN(
            const ledger::Month month,
            internal::MonthField(sourced, completed->paid_up_to_month(), "paid-up-to month"));
        row.paid_up_to_month = month.yyyymm();
        row.paid_up_position = sourced.position.value;
      }
      break;
    }
    case schema::Event::RemittanceCancelled:
      row.open_remittance_id = 0;
      break;
    default:
      break;  // receipts and refunds move suspense (above); the rest changes nothing shown
  }
  return Status::Ok();
}

Status EmployersProjection::Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) {
  ++batch_;
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  for (const auto& [employer_id, indexed_before] : touched_) {
    const Row& row = rows_.at(employer_id);
    EncodeRow(value_, row);
    out.Put(RowKey(employer_id), value_);
    const uint8_t indexed = IndexedStatus(row);
    if (indexed != indexed_before) {
      if (indexed_before != 0) {
        StatusIndexKey(key_, indexed_before, employer_id);
        out.Delete(key_);
      }
      if (indexed != 0) {
        StatusIndexKey(key_, indexed, employer_id);
        out.Put(key_, "");
      }
    }
  }
  for (const uint64_t account_id : touched_accounts_) {
    const AccountLink& link = accounts_.at(account_id);
    value_.clear();
    ValueWriter writer(value_);
    writer.U64(link.employer_id);
    writer.U8(link.status);
    writer.U8(link.frozen ? 1 : 0);
    key_.assign(kAccountPrefix);
    AppendKey64(key_, account_id);
    out.Put(key_, value_);
  }
  touched_.clear();
  touched_accounts_.clear();
  return Status::Ok();
}

Result<std::optional<EmployerSummary>> GetEmployer(const ReadView& view, uint64_t employer_id,
                                                   ledger::Date as_of) {
  HPF_ASSIGN_OR_RETURN(std::optional<std::string> value, view.Get(RowKey(employer_id)));
  if (!value.has_value()) return std::optional<EmployerSummary>();
  Row row;
  HPF_RETURN_IF_ERROR(DecodeRow(*value, employer_id, &row));
  return std::optional<EmployerSummary>(Summarize(employer_id, row, as_of));
}

Result<Page<EmployerSummary>> ListEmployers(const ReadView& view,
                                            std::optional<EmployerStatus> status,
                                            ledger::Date as_of, const PageRequest& page) {
  HPF_RETURN_IF_ERROR(CheckPageRequest(page));
  uint64_t after_id = 0;
  const bool from_start = page.after.empty();
  if (!from_start) {
    HPF_ASSIGN_OR_RETURN(const std::vector<uint64_t> cursor, ParseCursor(page.after, 1));
    after_id = cursor[0];
  }
  Page<EmployerSummary> result;
  bool more = false;
  Status failed = Status::Ok();
  auto add = [&](uint64_t employer_id, const Row& row) {
    if (result.items.size() == page.limit) {
      more = true;
      return false;
    }
    result.items.push_back(Summarize(employer_id, row, as_of));
    return true;
  };
  if (status.has_value()) {
    std::string prefix;
    StatusIndexKey(prefix, static_cast<uint8_t>(*status), 0);
    prefix.resize(kStatusIndexPrefix.size() + 1);
    std::string after;
    if (!from_start) StatusIndexKey(after, static_cast<uint8_t>(*status), after_id);
    HPF_RETURN_IF_ERROR(view.Scan(prefix, after, [&](std::string_view key, std::string_view) {
      uint64_t employer_id = 0;
      if (key.size() != prefix.size() + 8 || !ReadKey64(key, prefix.size(), &employer_id)) {
        failed = CorruptionError("employers: malformed index key");
        return false;
      }
      auto value = view.Get(RowKey(employer_id));
      if (!value.has_value() || !value->has_value()) {
        failed = value.has_value()
                     ? CorruptionError(fmt::format(
                           "employers: index names employer {} without a row", employer_id))
                     : value.error();
        return false;
      }
      Row row;
      failed = DecodeRow(**value, employer_id, &row);
      return failed.ok() && add(employer_id, row);
    }));
  } else {
    const std::string after = from_start ? std::string() : RowKey(after_id);
    HPF_RETURN_IF_ERROR(
        view.Scan(kRowPrefix, after, [&](std::string_view key, std::string_view value) {
          uint64_t employer_id = 0;
          if (key.size() != kRowPrefix.size() + 8 ||
              !ReadKey64(key, kRowPrefix.size(), &employer_id)) {
            failed = CorruptionError("employers: malformed row key");
            return false;
          }
          Row row;
          failed = DecodeRow(value, employer_id, &row);
          if (!failed.ok()) return false;
          return !row.registered || add(employer_id, row);
        }));
  }
  HPF_RETURN_IF_ERROR(failed);
  if (more) result.next = FormatCursor({result.items.back().employer_id});
  return result;
}

}  // namespace hpf::projections::read_models
