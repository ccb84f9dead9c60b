// projections/read_models/trial_balance.cc
#include "projections/read_models/trial_balance.h"

#include <fmt/core.h>

#include "projections/read_models/internal/bytes.h"
#include "projections/read_models/internal/record_fields.h"

namespace hpf::projections::read_models {

namespace {

using internal::AppendKey32;
using internal::ReadKey32;
using internal::ValueReader;
using internal::ValueWriter;

constexpr std::string_view kAccountPrefix = "g/";

struct ChartEntry {
  uint32_t code;
  std::string_view name;
  NormalSide side;
};

// DOMAIN §7, with the sub-codes the events post to.
constexpr ChartEntry kChart[] = {
    {101, "住房公积金存款 fund bank deposits", NormalSide::kDebit},
    {102, "增值收益存款 value-added income deposits", NormalSide::kDebit},
    {111, "应收利息 interest receivable", NormalSide::kDebit},
    {121, "委托贷款 loans outstanding", NormalSide::kDebit},
    {122, "逾期贷款 overdue loans", NormalSide::kDebit},
    {201, "住房公积金 personal accounts", NormalSide::kCredit},
    {211, "应付利息 interest payable", NormalSide::kCredit},
    {214, "专项应付款 special payables", NormalSide::kCredit},
    {219, "其他应付款 employer suspense (暂收)", NormalSide::kCredit},
    {301, "贷款风险准备 loan risk reserve", NormalSide::kCredit},
    {311, "增值收益 value-added income", NormalSide::kCredit},
    {401, "业务收入 income", NormalSide::kCredit},
    {411, "业务支出 expense", NormalSide::kDebit},
    {21401, "专项应付款 — management expenses payable", NormalSide::kCredit},
    {21402, "专项应付款 — affordable-housing supplementary funds", NormalSide::kCredit},
    {40101, "业务收入 — deposit interest", NormalSide::kCredit},
    {40103, "业务收入 — loan interest", NormalSide::kCredit},
    {40105, "业务收入 — other income", NormalSide::kCredit},
    {41101, "业务支出 — interest to personal accounts", NormalSide::kDebit},
    {41102, "业务支出 — collection fees", NormalSide::kDebit},
    {41103, "业务支出 — entrusted-loan fees", NormalSide::kDebit},
};

const ChartEntry* FindChartEntry(uint32_t code) {
  for (const ChartEntry& entry : kChart) {
    if (entry.code == code) return &entry;
  }
  return nullptr;
}

}  // namespace

std::string_view GlAccountName(uint32_t gl_account) {
  const ChartEntry* entry = FindChartEntry(gl_account);
  return entry == nullptr ? std::string_view() : entry->name;
}

NormalSide GlAccountNormalSide(uint32_t gl_account) {
  const ChartEntry* entry = FindChartEntry(gl_account);
  return entry == nullptr ? NormalSide::kDebit : entry->side;
}

Status TrialBalanceProjection::Load(const ReadView& stored) {
  accounts_.clear();
  dirty_.clear();
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      stored.Scan(kAccountPrefix, "", [&](std::string_view key, std::string_view value) {
        uint32_t code = 0;
        if (key.size() != kAccountPrefix.size() + 4 ||
            !ReadKey32(key, kAccountPrefix.size(), &code)) {
          decoded = CorruptionError("trial balance: malformed account key");
          return false;
        }
        ValueReader reader(value);
        Totals& totals = accounts_[code];
        totals.debit_fen = reader.I64();
        totals.credit_fen = reader.I64();
        totals.postings_count = reader.U64();
        decoded = reader.Finish(fmt::format("trial balance of {}", code));
        return decoded.ok();
      }));
  return decoded;
}

Status TrialBalanceProjection::Apply(std::span<const SourcedRecord> records,
                                     ProjectionWriter& out) {
  for (const SourcedRecord& sourced : records) {
    const auto* postings = sourced.record->postings();
    if (postings == nullptr) continue;
    for (const schema::Posting* posting : *postings) {
      if (posting->amount_fen() <= 0) {
        return internal::RecordError(sourced, "a posting's amount is not positive");
      }
      Totals& totals = accounts_[posting->gl_account()];
      if (posting->side() == schema::Side::Debit) {
        totals.debit_fen += posting->amount_fen();
      } else {
        totals.credit_fen += posting->amount_fen();
      }
      ++totals.postings_count;
      if (!totals.dirty) {
        totals.dirty = true;
        dirty_.push_back(posting->gl_account());
      }
    }
  }
  for (const uint32_t code : dirty_) {
    Totals& totals = accounts_[code];
    totals.dirty = false;
    key_.assign(kAccountPrefix);
    AppendKey32(key_, code);
    value_.clear();
    ValueWriter writer(value_);
    writer.I64(totals.debit_fen);
    writer.I64(totals.credit_fen);
    writer.U64(totals.postings_count);
    out.Put(key_, value_);
  }
  dirty_.clear();
  return Status::Ok();
}

Result<TrialBalance> ReadTrialBalance(const ReadView& view) {
  TrialBalance balance;
  Status decoded = Status::Ok();
  HPF_RETURN_IF_ERROR(
      view.Scan(kAccountPrefix, "", [&](std::string_view key, std::string_view value) {
        uint32_t code = 0;
        if (key.size() != kAccountPrefix.size() + 4 ||
            !ReadKey32(key, kAccountPrefix.size(), &code)) {
          decoded = CorruptionError("trial balance: malformed account key");
          return false;
        }
        ValueReader reader(value);
        TrialBalanceLine line{.gl_account = code,
                              .name = GlAccountName(code),
                              .normal_side = GlAccountNormalSide(code)};
        line.debit = ledger::Fen{reader.I64()};
        line.credit = ledger::Fen{reader.I64()};
        line.postings_count = reader.U64();
        decoded = reader.Finish(fmt::format("trial balance of {}", code));
        if (!decoded.ok()) return false;
        line.balance = line.debit - line.credit;
        balance.debit_total += line.debit;
        balance.credit_total += line.credit;
        balance.lines.push_back(line);
        return true;
      }));
  HPF_RETURN_IF_ERROR(decoded);
  return balance;
}

}  // namespace hpf::projections::read_models
