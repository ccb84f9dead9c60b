// projections/read_models/statements.cc
#include "projections/read_models/statements.h"

#include <algorithm>

#include <fmt/core.h>

#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/record_fields.h"
#include "projections/read_models/limits.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey64;
using internal::ReadKey64;
using internal::RecordError;
using internal::ValueReader;
using internal::ValueWriter;

constexpr std::string_view kLinePrefix = "l/";
constexpr std::string_view kBalancePrefix = "b/";
constexpr std::string_view kOffStreamPrefix = "x/";
constexpr size_t kLineKeyBytes = 16;  // account, position
constexpr size_t kLineBlockKeyBytes = 2 + 8 + 8;

uint64_t PageOf(uint64_t account_id) { return account_id / kAccountsPerPage; }

std::string OffStreamKey(uint64_t account_id) {
  std::string key(kOffStreamPrefix);
  AppendKey64(key, account_id);
  return key;
}

bool IsClosingReason(schema::WithdrawalReason reason) {
  return reason == schema::WithdrawalReason::Retirement ||
         reason == schema::WithdrawalReason::LossOfWorkingCapacity ||
         reason == schema::WithdrawalReason::LeavingCity ||
         reason == schema::WithdrawalReason::Death;
}

void LineBlockKey(std::string& key, uint64_t page, uint64_t bucket) {
  key.assign(kLinePrefix);
  AppendKey64(key, page);
  AppendKey64(key, bucket);
}

uint8_t BusinessTypeOf(const schema::Record& record) {
  switch (record.payload_type()) {
    case schema::Event::ContributionAllocated:
      return static_cast<uint8_t>(record.payload_as_ContributionAllocated()->business_type());
    case schema::Event::YearEndInterestCredited:
    case schema::Event::InterestToDateCredited:  // 结息: interest to a closing's date
      return static_cast<uint8_t>(schema::BusinessType::YearEndInterest);
    case schema::Event::WithdrawalPaid:
      return static_cast<uint8_t>(IsClosingReason(record.payload_as_WithdrawalPaid()->reason())
                                      ? schema::BusinessType::ClosingWithdrawal
                                      : schema::BusinessType::PartialWithdrawal);
    default:
      return 0;
  }
}

Status DecodeLine(std::string_view row, StatementLine* line, uint64_t* account_id) {
  if (!ReadKey64(row, 0, account_id) || !ReadKey64(row, 8, &line->position)) {
    return CorruptionError("statement line shorter than its key");
  }
  const std::string what = fmt::format("statement line at position {}", line->position);
  ValueReader reader(row.substr(kLineKeyBytes));
  const uint32_t effective = reader.U32();
  const uint8_t type = reader.U8();
  line->business_type = reader.U8();
  const uint32_t month = reader.U32();
  line->amount = ledger::Fen{reader.I64()};
  line->balance = ledger::Fen{reader.I64()};
  line->recorded_at_us = reader.I64();
  line->reversed_position = reader.U64();
  line->withdrawal_id = reader.U64();
  const uint8_t off_stream = reader.U8();
  HPF_RETURN_IF_ERROR(reader.Finish(what));
  if (off_stream > 1) return ValueReader::Invalid(what, "off-stream flag out of range");
  line->off_stream = off_stream == 1;
  auto date = ledger::Date::FromYyyymmdd(effective);
  if (!date.has_value()) return ValueReader::Invalid(what, date.error().message());
  line->effective_date = *date;
  if (type > static_cast<uint8_t>(schema::Event::MAX)) {
    return ValueReader::Invalid(what, "unknown event type");
  }
  line->event_type = events::EventTypeName(static_cast<schema::Event>(type));
  line->contribution_month.reset();
  if (month != 0) {
    auto parsed = ledger::Month::FromYyyymm(month);
    if (!parsed.has_value()) return ValueReader::Invalid(what, parsed.error().message());
    line->contribution_month = *parsed;
  }
  return Status::Ok();
}

}  // namespace

Status StatementsProjection::Load(const ReadView& stored) {
  balances_.clear();
  pages_.clear();
  off_stream_.clear();
  off_stream_touched_.clear();
  HPF_RETURN_IF_ERROR(blocks_.Load(stored, [](std::string_view key) -> size_t {
    return key.size() == kLineBlockKeyBytes && key.starts_with(kLinePrefix) ? kLineKeyBytes : 0;
  }));
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(kBalancePrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t page = 0;
        if (key.size() != kBalancePrefix.size() + 8 ||
            !ReadKey64(key, kBalancePrefix.size(), &page)) {
          decoded = CorruptionError("statements: malformed balance page key");
          return false;
        }
        const std::string what = fmt::format("statement balances page {}", page);
        ValueReader reader(value);
        const uint16_t count = reader.U16();
        for (uint16_t i = 0; i < count && reader.ok(); ++i) {
          const uint64_t account_id = reader.U64();
          const int64_t balance = reader.I64();
          if (reader.ok() && PageOf(account_id) != page) {
            decoded = ValueReader::Invalid(what, fmt::format("holds account {}", account_id));
            return false;
          }
          balances_[account_id].balance_fen = balance;
        }
        decoded = reader.Finish(what);
        return decoded.ok();
      }));
  HPF_RETURN_IF_ERROR(decoded);
  HPF_RETURN_IF_ERROR(
      stored.Scan(kOffStreamPrefix, "", [&](std::string_view key, std::string_view value) {
        uint64_t account_id = 0;
        if (key.size() != kOffStreamPrefix.size() + 8 ||
            !ReadKey64(key, kOffStreamPrefix.size(), &account_id)) {
          decoded = CorruptionError("statements: malformed off-stream key");
          return false;
        }
        ValueReader reader(value);
        off_stream_[account_id] = reader.U32();
        decoded = reader.Finish(fmt::format("statements: off-stream lines of {}", account_id));
        return decoded.ok();
      }));
  return decoded;
}

Status StatementsProjection::ApplyOne(const SourcedRecord& sourced) {
  HPF_ASSIGN_OR_RETURN(const uint64_t bucket, blocks_.Note(sourced.position.value));
  const schema::Record& record = *sourced.record;
  const schema::Envelope& envelope = *record.envelope();
  const auto* postings = record.postings();
  if (postings == nullptr) return Status::Ok();
  // The account a line belongs to: the stream's, or the one a withdrawal's payment names.
  const bool on_account = envelope.stream_kind() == schema::EntityKind::Account;
  const bool paid = envelope.stream_kind() == schema::EntityKind::Withdrawal &&
                    record.payload_type() == schema::Event::WithdrawalPaid;
  const uint64_t account_id =
      paid ? record.payload_as_WithdrawalPaid()->account_id() : envelope.stream_id();
  bool moves = false;
  int64_t money = 0;
  for (const schema::Posting* posting : *postings) {
    if (posting->gl_account() != internal::kGlPersonalAccounts) continue;
    if (!(on_account || paid) || posting->subledger_kind() != schema::EntityKind::Account ||
        posting->subledger_id() != account_id) {
      return RecordError(sourced,
                         "posts to a personal account (201) off that account's stream: "
                         "statements follow an account's own stream and its withdrawals' "
                         "payments");
    }
    moves = true;
    money +=
        posting->side() == schema::Side::Credit ? posting->amount_fen() : -posting->amount_fen();
  }
  if (!moves) return Status::Ok();
  HPF_ASSIGN_OR_RETURN(const ledger::Date effective, internal::EffectiveDateOf(sourced));
  // A payment's line is on the withdrawal's stream: its place among the account's lines is
  // its position, which the query settles (statements.h); the stored running balance is the
  // account stream's own.
  Balance& balance = balances_[account_id];
  if (paid) {
    if (off_stream_touched_batch_[account_id] != batch_) {
      off_stream_touched_batch_[account_id] = batch_;
      off_stream_touched_.push_back(account_id);
    }
    ++off_stream_[account_id];
  } else {
    balance.balance_fen += money;
    if (balance.touched_batch != batch_) {
      balance.touched_batch = batch_;
      pages_.push_back(PageOf(account_id));
    }
  }
  uint32_t month = 0;
  if (record.payload_type() == schema::Event::ContributionAllocated) {
    HPF_ASSIGN_OR_RETURN(
        const ledger::Month parsed,
        internal::MonthField(sourced,
                             record.payload_as_ContributionAllocated()->contribution_month(),
                             "contribution month"));
    month = parsed.yyyymm();
  }
  const uint64_t reversed = record.payload_type() == schema::Event::RecordReversed
                                ? record.payload_as_RecordReversed()->reversed_position()
                                : 0;
  uint64_t withdrawal_id = 0;
  if (paid) {
    withdrawal_id = envelope.stream_id();
  } else if (record.payload_type() == schema::Event::InterestToDateCredited &&
             record.payload_as_InterestToDateCredited()->cause_kind() ==
                 schema::EntityKind::Withdrawal) {
    withdrawal_id = record.payload_as_InterestToDateCredited()->cause_id();
  }
  row_.clear();
  AppendKey64(row_, account_id);
  AppendKey64(row_, sourced.position.value);
  ValueWriter writer(row_);
  writer.U32(effective.yyyymmdd());
  writer.U8(static_cast<uint8_t>(record.payload_type()));
  writer.U8(BusinessTypeOf(record));
  writer.U32(month);
  writer.I64(money);
  writer.I64(paid ? 0 : balance.balance_fen);
  writer.I64(envelope.link()->recorded_at_us());
  writer.U64(reversed);
  writer.U64(withdrawal_id);
  writer.U8(paid ? 1 : 0);
  LineBlockKey(key_, PageOf(account_id), bucket);
  blocks_.Touch(bucket, key_).Add(row_, kLineKeyBytes);
  return Status::Ok();
}

Status StatementsProjection::Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) {
  ++batch_;
  pages_.clear();
  for (const SourcedRecord& sourced : records) HPF_RETURN_IF_ERROR(ApplyOne(sourced));
  HPF_RETURN_IF_ERROR(blocks_.Flush(out));
  std::sort(pages_.begin(), pages_.end());
  pages_.erase(std::unique(pages_.begin(), pages_.end()), pages_.end());
  for (const uint64_t page : pages_) {
    row_.assign(2, '\0');
    ValueWriter writer(row_);
    uint16_t count = 0;
    for (uint64_t i = 0; i < kAccountsPerPage; ++i) {
      const uint64_t account_id = page * kAccountsPerPage + i;
      auto it = balances_.find(account_id);
      if (it == balances_.end()) continue;
      writer.U64(account_id);
      writer.I64(it->second.balance_fen);
      ++count;
    }
    row_[0] = static_cast<char>(count & 0xff);
    row_[1] = static_cast<char>(count >> 8);
    key_.assign(kBalancePrefix);
    AppendKey64(key_, page);
    out.Put(key_, row_);
  }
  for (const uint64_t account_id : off_stream_touched_) {
    row_.clear();
    ValueWriter(row_).U32(off_stream_.at(account_id));
    out.Put(OffStreamKey(account_id), row_);
  }
  off_stream_touched_.clear();
  return Status::Ok();
}

Result<Page<StatementLine>> Statement(const ReadView& view, const StatementRequest& request) {
  HPF_RETURN_IF_ERROR(CheckPageRequest(request.page));
  if (request.from.has_value() && request.to.has_value() && *request.from > *request.to) {
    return InvalidArgumentError(fmt::format("statement from {} is after to {}",
                                            request.from->ToIsoString(),
                                            request.to->ToIsoString()));
  }
  uint64_t after = 0;
  if (!request.page.after.empty()) {
    HPF_ASSIGN_OR_RETURN(const std::vector<uint64_t> cursor, ParseCursor(request.page.after, 1));
    after = cursor[0];
  }
  std::string prefix(kLinePrefix);
  AppendKey64(prefix, PageOf(request.account_id));
  // An account with payments off its stream: running balances in log order are summed here,
  // from its first line (statements.h).
  HPF_ASSIGN_OR_RETURN(std::optional<std::string> off_stream,
                       view.Get(OffStreamKey(request.account_id)));
  const bool summed = off_stream.has_value();
  ledger::Fen running;
  std::string start;
  if (after > 0 && !summed) {
    // Blocks of buckets before the cursor's hold only earlier lines.
    const uint64_t bucket = internal::BucketOf(after);
    if (bucket > 0) LineBlockKey(start, PageOf(request.account_id), bucket - 1);
  }
  Page<StatementLine> result;
  bool more = false;
  Status failed = Status::Ok();
  HPF_RETURN_IF_ERROR(view.Scan(prefix, start, [&](std::string_view key, std::string_view block) {
    if (key.size() != kLineBlockKeyBytes) {
      failed = CorruptionError("statements: malformed block key");
      return false;
    }
    const Status visited =
        internal::VisitBlockRows(block, "statement block", [&](std::string_view row) {
          uint64_t account_id = 0;
          if (!ReadKey64(row, 0, &account_id)) {
            failed = CorruptionError("statement line shorter than its key");
            return false;
          }
          if (account_id < request.account_id) return true;
          if (account_id > request.account_id) return false;  // rows are by account: done here
          StatementLine line;
          failed = DecodeLine(row, &line, &account_id);
          if (!failed.ok()) return false;
          if (summed) {
            running += line.amount;
            line.balance = running;
          }
          if (line.position <= after) return true;
          if (request.from.has_value() && line.effective_date < *request.from) return true;
          if (request.to.has_value() && line.effective_date > *request.to) return true;
          if (result.items.size() == request.page.limit) {
            more = true;
            return false;
          }
          result.items.push_back(line);
          return true;
        });
    if (!visited.ok()) failed = visited;
    return failed.ok() && !more;
  }));
  HPF_RETURN_IF_ERROR(failed);
  if (more) result.next = FormatCursor({result.items.back().position});
  return result;
}

}  // namespace hpf::projections::read_models
