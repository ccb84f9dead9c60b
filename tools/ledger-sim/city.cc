// tools/ledger-sim/city.cc
#include "tools/ledger-sim/city.h"

#include <random>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "ledger/calendar.h"
#include "ledger/money.h"

namespace hpf::sim {

namespace {

using ledger::AccountId;
using ledger::EmployerId;
using ledger::Fen;
using ledger::Month;
using ledger::RatePpm;

struct SimAccount {
  AccountId id;
  Fen base;
  bool sealed = false;
  bool paid = false;              // a contribution reached it
  bool closed = false;            // by its closing withdrawal
  uint32_t retires_in_month = 0;  // 1 .. months: the month index it retires in; 0 never
};

struct SimEmployer {
  EmployerId id;
  RatePpm employer_rate;
  RatePpm employee_rate;
  std::vector<SimAccount> accounts;
};

class City {
 public:
  City(const CityOptions& options, const std::function<void(ledger::Command&&)>& emit)
      : options_(options),
        emit_(emit),
        rng_(options.seed),
        retirement_rng_(options.seed ^ kRetirementStream) {}

  CityCounts Run() {
    const Month first =
        Month::FromYyyymm(static_cast<uint32_t>(options_.interest_year) * 100 + 7).value();
    Register(first);
    Month month = first;
    for (uint32_t m = 0; m < options_.months; ++m, month = month.Next()) {
      for (SimEmployer& employer : employers_) {
        PayMonth(employer, month, first);
        Retire(employer, month, m + 1);
      }
    }
    if (options_.months >= 12) Settle();
    return counts_;
  }

 private:
  // mt19937_64 is specified to the bit; std's distributions are not, so the draw is ours and
  // the city is the same on every standard library (the modulo bias is irrelevant here).
  uint64_t Below(uint64_t bound) { return rng_() % bound; }
  bool PerMille(uint32_t chance) { return Below(1000) < chance; }

  void Emit(uint32_t date, ledger::CommandBody body) { EmitAs("sim", date, std::move(body)); }

  // A command whose actor matters: the four eyes of a withdrawal are two people.
  void EmitAs(std::string actor, uint32_t date, ledger::CommandBody body) {
    ++counts_.commands;
    emit_(ledger::Command{
        .header = {.idempotency_key = fmt::format("sim:{}:{}", options_.seed, counts_.commands),
                   .actor = std::move(actor),
                   .channel = "sim",
                   .effective_date = date},
        .body = std::move(body)});
  }

  Fen RandomBase() {
    // 2 100.00 .. 28 716.00 yuan, most near the middle of the range.
    const uint64_t a = Below(1'330'800);
    const uint64_t b = Below(1'330'800);
    return Fen{210'000 + static_cast<int64_t>(a + b)};
  }

  void Register(Month first) {
    const uint32_t date = first.FirstDay().yyyymmdd();
    for (uint32_t e = 0; e < options_.employers; ++e) {
      SimEmployer employer;
      employer.id = EmployerId{e + 1};
      employer.employer_rate = RatePpm{static_cast<uint32_t>(50'000 + Below(8) * 10'000)};
      employer.employee_rate = employer.employer_rate;
      Emit(date, ledger::RegisterEmployer{
                     .employer = employer.id,
                     .unified_social_credit_code = fmt::format("91370200MA{:08}", e + 1),
                     .name = fmt::format("Sim Employer {}", e + 1),
                     .bank_code = "ICBC",
                     .employer_rate = employer.employer_rate,
                     .employee_rate = employer.employee_rate,
                     .first_contribution_month = first.yyyymm()});
      ++counts_.employers;
      const uint64_t accounts = 1 + Below(2 * uint64_t{options_.accounts_per_employer});
      for (uint64_t a = 0; a < accounts; ++a) {
        SimAccount account{AccountId{employer.id.value * 100'000 + a + 1}, RandomBase()};
        ledger::OpenAccount open{.account = account.id,
                                 .employer = employer.id,
                                 .person_id = account.id.value,
                                 .contribution_base = account.base,
                                 .first_contribution_month = first.yyyymm()};
        // The registry's keyed digest of the person's document number: random here.
        for (size_t i = 0; i < open.identity_digest.size(); i += 8) {
          const uint64_t word = rng_();
          for (size_t b = 0; b < 8; ++b) {
            open.identity_digest[i + b] = static_cast<uint8_t>(word >> (8 * b));
          }
        }
        Emit(date, std::move(open));
        ++counts_.accounts;
        if (retirement_rng_() % 1000 < options_.closing_withdrawals_per_mille) {
          account.retires_in_month = 1 + static_cast<uint32_t>(retirement_rng_() % options_.months);
        }
        employer.accounts.push_back(account);
      }
      employers_.push_back(std::move(employer));
    }
  }

  ledger::AllocateContribution Line(const SimEmployer& employer, uint64_t list,
                                    const SimAccount& account, Month month, Fen base) {
    return ledger::AllocateContribution{
        .remittance_id = list,
        .employer = employer.id,
        .account = account.id,
        .month = month.yyyymm(),
        .contribution_base = base,
        .employer_amount = ApplyRate(base, employer.employer_rate, kRounding),
        .employee_amount = ApplyRate(base, employer.employee_rate, kRounding)};
  }

  void PayMonth(SimEmployer& employer, Month month, Month first) {
    const uint32_t first_day = month.FirstDay().yyyymmdd();
    const uint32_t payday = first_day + 14;  // the 15th
    // Back-payments: last month's shortfall, for a few accounts whose base was raised late —
    // from last month, already paid on the old base (补缴 of the difference).
    std::vector<ledger::AllocateContribution> back;
    for (SimAccount& account : employer.accounts) {
      if (account.sealed || account.closed) continue;
      if (PerMille(options_.seals_per_mille)) {
        account.sealed = true;
        Emit(first_day, ledger::SealAccount{account.id, ledger::AccountSealReason::kLeftEmployer});
      } else if (PerMille(options_.base_changes_per_mille)) {
        account.base = RandomBase();
        Emit(first_day, ledger::ChangeAccountBase{account.id, account.base, month.yyyymm()});
      } else if (month > first && PerMille(options_.back_payments_per_mille)) {
        const Fen raise{10'000 + static_cast<int64_t>(Below(90'000))};
        if (account.base + raise > kBaseCap) continue;
        account.base += raise;
        Emit(first_day, ledger::ChangeAccountBase{account.id, account.base, month.Prev().yyyymm()});
        back.push_back(Line(employer, 0, account, month.Prev(), raise));
      }
    }
    std::vector<ledger::AllocateContribution> lines;
    for (SimAccount& account : employer.accounts) {
      if (account.sealed || account.closed) continue;
      lines.push_back(Line(employer, 0, account, month, account.base));
      account.paid = true;
    }
    PayList(employer, lines, ledger::RemittanceKind::kRegular, month, month, payday);
    PayList(employer, back, ledger::RemittanceKind::kBackPayment, month.Prev(), month.Prev(),
            payday + 5);
  }

  void PayList(const SimEmployer& employer, std::vector<ledger::AllocateContribution>& lines,
               ledger::RemittanceKind kind, Month from, Month to, uint32_t date) {
    if (lines.empty()) return;
    Fen total;
    for (const auto& line : lines) total += line.employer_amount + line.employee_amount;
    const uint64_t list = ++lists_;
    Emit(date, ledger::RecordBankReceipt{.employer = employer.id,
                                         .bank_code = "ICBC",
                                         .bank_reference = fmt::format("ICBC{}{:08}", date, list),
                                         .amount = total});
    Emit(date, ledger::OpenRemittance{.remittance_id = list,
                                      .employer = employer.id,
                                      .kind = kind,
                                      .from_month = from.yyyymm(),
                                      .to_month = to.yyyymm(),
                                      .accounts_count = static_cast<uint32_t>(lines.size()),
                                      .total = total,
                                      .list_reference = fmt::format("HJ{}", list)});
    for (auto& line : lines) {
      line.remittance_id = list;
      Emit(date, line);
      ++counts_.allocations;
    }
    Emit(date, ledger::CompleteRemittance{list, employer.id});
  }

  // The employer's people retiring in month `index` (1-based), after the month's lists (the
  // 15th and the 20th): sealed, applied for on the 21st at the counter, approved on the 22nd
  // by a reviewer — never the applicant — and paid by the bank on the 25th: the interest to
  // date, the balance, the account closed. Only accounts that hold contributions retire here.
  void Retire(SimEmployer& employer, Month month, uint32_t index) {
    const uint32_t first_day = month.FirstDay().yyyymmdd();
    for (SimAccount& account : employer.accounts) {
      if (account.retires_in_month != index || account.closed || !account.paid) continue;
      const uint64_t withdrawal = ++withdrawals_;
      const uint64_t desk = withdrawal % kCounterDesks;  // the applicant's; its reviewer: next
      if (!account.sealed) {
        account.sealed = true;
        Emit(first_day + 20,
             ledger::SealAccount{account.id, ledger::AccountSealReason::kLeftEmployer});
      }
      EmitAs(fmt::format("op:counter-{}", desk), first_day + 20,
             ledger::ApplyWithdrawal{
                 .withdrawal_id = withdrawal,
                 .account = account.id,
                 .reason = ledger::WithdrawalReason::kRetirement,
                 .payee_reference = fmt::format("PAYEE-{}", account.id.value),
                 .evidence_reference = fmt::format("RETIRE-{}-{}", month.yyyymm(), withdrawal)});
      EmitAs(fmt::format("op:review-{}", (desk + 1) % kCounterDesks), first_day + 21,
             ledger::ApproveWithdrawal{.withdrawal_id = withdrawal});
      EmitAs("bank:ICBC", first_day + 24,
             ledger::PayWithdrawal{
                 .withdrawal_id = withdrawal,
                 .deposit_id = 1,
                 .bank_code = "ICBC",
                 .bank_reference = fmt::format("ICBC-WD{}{:08}", first_day + 24, withdrawal)});
      account.closed = true;
      ++counts_.withdrawals;
    }
  }

  void Settle() {
    const uint32_t date = static_cast<uint32_t>(options_.interest_year + 1) * 10000 + 630;
    ledger::SettleInterest chunk{.interest_year = options_.interest_year, .accounts = {}};
    for (const SimEmployer& employer : employers_) {
      for (const SimAccount& account : employer.accounts) {
        if (account.closed) continue;  // paid its interest to date
        chunk.accounts.push_back(account.id);
        if (chunk.accounts.size() == kChunkAccounts) {
          Emit(date, chunk);
          chunk.accounts.clear();
        }
      }
    }
    if (!chunk.accounts.empty()) Emit(date, chunk);
  }

  static constexpr ledger::RoundingRule kRounding = ledger::RoundingRule::kHalfUpToFen;
  static constexpr Fen kBaseCap{2'871'600};       // the default policy's cap, as RandomBase's
  static constexpr size_t kChunkAccounts = 1000;  // ledger/limits.h kSettlementChunkAccountsMax
  static constexpr uint64_t kRetirementStream = 0x5245'5449'5245'4D54;  // "RETIREMT"
  static constexpr uint64_t kCounterDesks = 4;

  const CityOptions& options_;
  const std::function<void(ledger::Command&&)>& emit_;
  std::mt19937_64 rng_;
  std::mt19937_64 retirement_rng_;  // who retires, when: apart, so rng_'s stream is unchanged
  std::vector<SimEmployer> employers_;
  uint64_t lists_ = 0;
  uint64_t withdrawals_ = 0;
  CityCounts counts_;
};

}  // namespace

CityCounts GenerateCity(const CityOptions& options,
                        const std::function<void(ledger::Command&&)>& emit) {
  return City(options, emit).Run();
}

}  // namespace hpf::sim
