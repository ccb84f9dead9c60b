// tests/simulation/command_generator.cc
#include "tests/simulation/command_generator.h"

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

namespace hpf::simulation {

using ledger::AccountId;
using ledger::EmployerId;
using ledger::Fen;
using ledger::RatePpm;
using ledger::RemittanceKind;

namespace {

constexpr uint32_t kStartDate = 20160901;        // after kModelFirstDate, leaving room to back-date
constexpr uint32_t kLastDateToReach = 21800101;  // time stops here (months stay valid)
constexpr size_t kRecentDaysMax = 40;
constexpr uint64_t kInvalidPerMille = 120;
constexpr uint32_t kPlanFailuresMax = 8;
constexpr const char* kBanks[] = {"ICBC", "CCB", "ABC", "BOC", "BOCOM", "QDCCB"};

std::string CreditCode(uint64_t employer) {
  std::string digits = std::to_string(10'000'000 + employer % 90'000'000);
  return "91370200MA" + digits.substr(0, 8);
}

uint32_t MonthsFrom(uint32_t from, uint32_t to) {  // months in [from, to], 0 if to < from
  uint32_t count = 0;
  for (uint32_t m = from; m <= to; m = NextMonth(m)) ++count;
  return count;
}

}  // namespace

CommandGenerator::CommandGenerator(uint64_t seed, uint64_t commands_planned,
                                   const ReferenceModel& model)
    : rng_(seed), model_(model) {
  employers_max_ = std::clamp<uint64_t>(commands_planned / 700, 12, 2000);
  today_ = kStartDate;
  const uint64_t skip_days = Below(3 * 365);
  for (uint64_t i = 0; i < skip_days; ++i) today_ = NextDay(today_);
  recent_days_.push_back(today_);
}

uint64_t CommandGenerator::Below(uint64_t n) { return rng_() % n; }

void CommandGenerator::MarkStuck(uint64_t employer, const std::string& why) {
  info_[employer].stuck = true;
  if (stuck_notes_.size() < 10) {
    stuck_notes_.push_back("employer " + std::to_string(employer) + " on " +
                           std::to_string(today_) + ": " + why);
  }
}

size_t CommandGenerator::stuck_employers() const {
  size_t count = 0;
  for (const auto& [id, info] : info_) count += info.stuck ? 1 : 0;
  return count;
}

uint32_t CommandGenerator::EffectiveDate() {
  // Mostly today; now and then a back-dated value date (a receipt booked late).
  if (recent_days_.size() > 1 && PerMille(30)) return recent_days_[Below(recent_days_.size())];
  return today_;
}

ledger::Command CommandGenerator::Probe(const ledger::CommandBody& body) const {
  return ledger::Command{.header = {.idempotency_key = "probe", .effective_date = today_},
                         .body = body};
}

ledger::Command CommandGenerator::Wrap(ledger::CommandBody body, uint32_t date) {
  ++serial_;
  return ledger::Command{.header = {.idempotency_key = "sim-" + std::to_string(serial_),
                                    .actor = "op:" + std::to_string(1 + serial_ % 7),
                                    .channel = serial_ % 3 == 0 ? "online" : "counter",
                                    .effective_date = date},
                         .body = std::move(body)};
}

GeneratedCommand CommandGenerator::Make(ledger::CommandBody body, const char* label, bool valid) {
  return GeneratedCommand{
      .command = Wrap(std::move(body), EffectiveDate()), .label = label, .meant_valid = valid};
}

// --- time ---

void CommandGenerator::AdvanceDay() {
  if (today_ >= kLastDateToReach) return;
  const uint32_t month = MonthOfDate(today_);
  today_ = NextDay(today_);
  recent_days_.push_back(today_);
  if (recent_days_.size() > kRecentDaysMax) recent_days_.pop_front();
  if (MonthOfDate(today_) != month) RebuildWork();
  if (today_ % 10000 == 630) RebuildPending();
}

void CommandGenerator::AdvanceToNextMonth() {
  do {
    AdvanceDay();
  } while (today_ % 100 != 1 && today_ % 10000 != 630 && today_ < kLastDateToReach);
}

void CommandGenerator::RebuildWork() {
  work_.clear();
  for (auto& [id, info] : info_) info.in_work = false;
  for (const uint64_t id : employer_ids_) AddToWork(id);
}

void CommandGenerator::AddToWork(uint64_t employer) {
  EmployerInfo& info = info_[employer];
  if (info.in_work || info.stuck) return;
  info.in_work = true;
  work_.push_back(employer);
}

void CommandGenerator::RebuildPending() {
  pending_.clear();
  for (const auto& [id, account] : model_.accounts()) {
    if (account.status != ModelStatus::kClosed &&
        today_ >= InterestYearLastDay(account.interest_year)) {
      pending_.push_back(id);
    }
  }
}

// --- the stream ---

GeneratedCommand CommandGenerator::Next() {
  if (serial_ % 1024 == 0) {
    normal_accounts_ = 0;
    for (const auto& [id, account] : model_.accounts()) {
      normal_accounts_ += account.status == ModelStatus::kNormal ? 1 : 0;
    }
  }
  // About a month's work per month: every normal account needs a line, plus the rest.
  const uint64_t commands_per_day = std::max<uint64_t>(20, normal_accounts_ / 12);
  if (Below(commands_per_day) == 0) AdvanceDay();
  last_step_ = Step::kOther;
  GeneratedCommand generated = [&] {
    if (!pending_.empty() && PerMille(850)) {
      if (auto settle = Settlement()) return *settle;
    }
    if (PerMille(kInvalidPerMille)) {
      for (int attempt = 0; attempt < 8; ++attempt) {
        auto invalid = Invalid(Below(64));
        // A rule breaker the model would accept (a mutated line that happens to be another
        // employer's next one...) would upset the plans: send only what the model rejects.
        if (invalid && model_.Check(invalid->command).has_value()) return *invalid;
      }
    }
    last_step_ = Step::kOther;
    return Valid();
  }();
  last_command_ = generated.command;
  return generated;
}

GeneratedCommand CommandGenerator::Valid() {
  // A city starts with a few employers and their first hires.
  if (employer_ids_.size() < 3) return RegisterNewEmployer();
  // Late in June a few retirements are applied for: some are still in flight on 30 June,
  // keep their accounts out of the settlement and are paid after it, over two years.
  const uint32_t month_day = today_ % 10000;
  if (month_day >= 620 && month_day <= 630 && withdrawals_.size() < 4 && PerMille(15)) {
    if (auto apply = ApplyForWithdrawal()) return *apply;
  }
  const uint64_t roll = Below(1000);
  std::optional<GeneratedCommand> generated;
  if (roll < 700) {
    generated = Flow();
    if (!generated && normal_accounts_ > 0) {
      AdvanceToNextMonth();  // everyone has paid this month
      generated = Flow();
    }
  } else if (roll < 780) {
    generated = HireEmployee();
  } else if (roll < 795) {
    if (employer_ids_.size() < employers_max_) return RegisterNewEmployer();
  } else if (roll < 805) {
    generated = StartBackPayment();
  } else if (roll < 825) {
    generated = ChangeBase();
  } else if (roll < 829) {
    generated = ChangeRates();
  } else if (roll < 832) {
    generated = GrantReduction();
  } else if (roll < 836) {
    generated = GrantDeferralAhead();
  } else if (roll < 850) {
    generated = SealSomeAccount();
  } else if (roll < 860) {
    generated = UnsealSomeAccount();
  } else if (roll < 865) {
    generated = FreezeOrUnfreeze(true);
  } else if (roll < 870) {
    generated = FreezeOrUnfreeze(false);
  } else if (roll < 874) {
    generated = CloseSomeAccount();
  } else if (roll < 877) {
    generated = SealSomeEmployer();
  } else if (roll < 880) {
    generated = CloseSomeEmployer();
  } else if (roll < 883) {
    generated = ReopenSomeEmployer();
  } else if (roll < 893) {
    generated = ExtraReceipt();
  } else if (roll < 905) {
    generated = ReverseSomething();
  } else if (roll < 906) {
    return RestatePolicy();
  } else if (roll < 907) {
    generated = ApplyForWithdrawal();
  } else if (roll < 927) {
    generated = AdvanceWithdrawal();
  } else {
    generated = Flow();
  }
  if (generated) return *generated;
  if (auto flow = Flow()) return *flow;
  if (auto hire = HireEmployee()) return *hire;
  return RegisterNewEmployer();
}

// --- picking ---

template <typename Ok>
std::optional<uint64_t> CommandGenerator::PickEmployer(Ok ok) {
  if (employer_ids_.empty()) return std::nullopt;
  for (int probe = 0; probe < 16; ++probe) {
    const uint64_t id = employer_ids_[Below(employer_ids_.size())];
    const ModelEmployer* employer = model_.employer(id);
    if (employer != nullptr && ok(id, *employer)) return id;
  }
  return std::nullopt;
}

template <typename Ok>
std::optional<uint64_t> CommandGenerator::PickAccount(Ok ok) {
  if (account_ids_.empty()) return std::nullopt;
  for (int probe = 0; probe < 24; ++probe) {
    const uint64_t id = account_ids_[Below(account_ids_.size())];
    const ModelAccount* account = model_.account(id);
    if (account != nullptr && ok(id, *account)) return id;
  }
  return std::nullopt;
}

std::optional<uint64_t> CommandGenerator::PickOpenPlan(bool with_line) {
  if (work_.empty()) return std::nullopt;
  for (int probe = 0; probe < 16; ++probe) {
    const uint64_t id = work_[Below(work_.size())];
    const EmployerInfo& info = info_[id];
    if (info.stuck || !info.plan || !info.plan->opened) continue;
    if (with_line && info.plan->next_line >= info.plan->lines.size()) continue;
    return id;
  }
  return std::nullopt;
}

bool CommandGenerator::Quiet(uint64_t employer) const {
  auto it = info_.find(employer);
  const ModelEmployer* model = model_.employer(employer);
  return it != info_.end() && !it->second.plan && !it->second.stuck && model != nullptr &&
         !model->remittance.has_value();
}

uint32_t CommandGenerator::RandomRate() {
  static constexpr uint32_t kCommon[] = {50'000, 60'000, 70'000, 80'000, 100'000, 120'000};
  if (PerMille(700)) return kCommon[Below(std::size(kCommon))];
  return static_cast<uint32_t>(kModelRateMinPpm + Below(kModelRateMaxPpm - kModelRateMinPpm + 1));
}

ledger::EmployerExitReason CommandGenerator::ExitReason() {
  static constexpr ledger::EmployerExitReason kReasons[] = {
      ledger::EmployerExitReason::kDissolved, ledger::EmployerExitReason::kSuspendedBusiness,
      ledger::EmployerExitReason::kNoEmployees, ledger::EmployerExitReason::kOther};
  return kReasons[Below(std::size(kReasons))];
}

std::string CommandGenerator::Approval(const char* prefix) {
  return PerMille(300) ? std::string() : prefix + std::to_string(serial_);
}

int64_t CommandGenerator::RandomBase() {
  const uint64_t roll = Below(100);
  if (roll < 5) return kModelBaseFloorFen;
  if (roll < 10) return kModelBaseCapFen;
  const auto span = static_cast<uint64_t>(kModelBaseCapFen - kModelBaseFloorFen + 1);
  const int64_t base = kModelBaseFloorFen + static_cast<int64_t>(Below(span));
  if (roll < 25) return std::max(kModelBaseFloorFen, base / 10'000 * 10'000);  // whole 100s
  return base;
}

ledger::AllocateContribution CommandGenerator::LineCommand(uint64_t employer, const Plan& plan,
                                                           const Line& line) const {
  const auto [employer_rate, employee_rate] = RatesFor(*model_.employer(employer), line.month);
  return ledger::AllocateContribution{
      .remittance_id = plan.remittance_id,
      .employer = EmployerId{employer},
      .account = AccountId{line.account},
      .month = line.month,
      .contribution_base = Fen{line.base_fen},
      .employer_amount = Fen{ContributionFen(line.base_fen, employer_rate)},
      .employee_amount = Fen{ContributionFen(line.base_fen, employee_rate)}};
}

// --- remittance flow: receipt(s), open, one line at a time, complete ---

std::optional<GeneratedCommand> CommandGenerator::Flow() {
  while (!work_.empty()) {
    const size_t index = Below(work_.size());
    const uint64_t employer = work_[index];
    if (auto step = FlowStep(employer)) return step;
    info_[employer].in_work = false;
    work_[index] = work_.back();
    work_.pop_back();
  }
  return std::nullopt;
}

std::optional<GeneratedCommand> CommandGenerator::FlowStep(uint64_t employer) {
  EmployerInfo& info = info_[employer];
  const ModelEmployer* model = model_.employer(employer);
  if (info.stuck || model == nullptr) return std::nullopt;
  if (!info.plan) {
    if (model->remittance.has_value()) {
      MarkStuck(employer, "a list the generator did not plan is open");
      return std::nullopt;
    }
    if (!StartRegular(employer)) return std::nullopt;
  }
  Plan& plan = *info.plan;
  if (plan.opened &&
      (!model->remittance.has_value() || model->remittance->id != plan.remittance_id)) {
    MarkStuck(employer, "the plan's list is not the open one");
    return std::nullopt;
  }
  last_employer_ = employer;
  const bool regular = plan.kind == RemittanceKind::kRegular;
  const int64_t still_due = plan.total_fen - (plan.opened ? model->remittance->allocated_fen : 0);
  auto receipt = [&](int64_t needed) {
    int64_t amount = needed;
    if (PerMille(250) && needed > 1) amount = needed / 2;  // the bank pays in two parts
    if (PerMille(150)) amount += static_cast<int64_t>(1 + Below(20'000));  // a little over
    last_step_ = Step::kPlanReceipt;
    return Make(ledger::RecordBankReceipt{.employer = EmployerId{employer},
                                          .bank_code = kBanks[employer % std::size(kBanks)],
                                          .bank_reference = "BR" + std::to_string(serial_),
                                          .amount = Fen{amount},
                                          .deposit_id = 1 + employer % 3},
                "receipt for a list");
  };
  if (!plan.opened) {
    // Some employers pay first and file the list after, others the other way round.
    if (model->suspense_fen < plan.total_fen && PerMille(500)) {
      return receipt(plan.total_fen - model->suspense_fen);
    }
    last_step_ = Step::kPlanOpen;
    const ledger::OpenRemittance open{
        .remittance_id = plan.remittance_id,
        .employer = EmployerId{employer},
        .kind = plan.kind,
        .from_month = plan.from_month,
        .to_month = plan.to_month,
        .accounts_count = static_cast<uint32_t>(plan.lines.size()),
        .total = Fen{plan.total_fen},
        .list_reference = "LIST-" + std::to_string(plan.remittance_id)};
    return Make(open, regular ? "open regular list" : "open back-payment list");
  }
  if (plan.next_line < plan.lines.size()) {
    const ledger::AllocateContribution line =
        LineCommand(employer, plan, plan.lines[plan.next_line]);
    const int64_t due = line.employer_amount.value + line.employee_amount.value;
    if (model->suspense_fen < due) return receipt(still_due - model->suspense_fen);
    last_step_ = Step::kPlanAllocate;
    return Make(line, regular ? "allocate regular line" : "allocate back-payment line");
  }
  last_step_ = Step::kPlanComplete;
  return Make(ledger::CompleteRemittance{.remittance_id = plan.remittance_id,
                                         .employer = EmployerId{employer}},
              regular ? "complete regular list" : "complete back-payment list");
}

bool CommandGenerator::StartRegular(uint64_t employer) {
  EmployerInfo& info = info_[employer];
  const ModelEmployer& model = *model_.employer(employer);
  if (model.status != ModelStatus::kNormal || model.remittance.has_value()) return false;
  // Deferred months (缓缴) are skipped now and back-paid later.
  const uint32_t from = NextRegularMonth(model, model.paid_up_to_month);
  const uint32_t current = MonthOfDate(today_);
  if (from > current) return false;  // paid up: the next list is due next month
  // An employer in arrears pays up to three months in one list.
  const uint32_t behind = MonthsFrom(from, current);
  uint32_t to = from;
  for (uint64_t extra = Below(std::min<uint32_t>(behind, 3)); extra > 0; --extra) {
    to = NextMonth(to);
  }
  Plan plan{.kind = RemittanceKind::kRegular, .from_month = from, .to_month = to};
  for (const uint64_t id : info.accounts) {
    const ModelAccount* account = model_.account(id);
    if (account == nullptr || account->employer != employer ||
        account->status != ModelStatus::kNormal) {
      continue;
    }
    // The account's months of the list in its own sequence; a month it has paid already
    // (back-paid ahead) is skipped, as the ledger's sequence skips it, and so are the list's
    // months before the account's next one (its first month may come later in the list).
    uint32_t paid_up_to = account->paid_up_to_month;
    for (uint32_t month = from; month <= to; month = NextMonth(month)) {
      if (account->paid_base.contains(month)) continue;
      const uint32_t next_due = NextDueMonth(model, *account, paid_up_to);
      if (month != NextMonth(paid_up_to) && month != next_due) {
        if (month < next_due) continue;
        break;
      }
      plan.lines.push_back(
          Line{.account = id, .month = month, .base_fen = BaseFor(*account, month)});
      paid_up_to = month;
    }
  }
  if (plan.lines.empty()) return false;
  for (const Line& line : plan.lines) {
    const auto [employer_rate, employee_rate] = RatesFor(model, line.month);
    plan.total_fen += ContributionFen(line.base_fen, employer_rate) +
                      ContributionFen(line.base_fen, employee_rate);
  }
  plan.remittance_id = next_remittance_++;
  info.plan = std::move(plan);
  return true;
}

std::optional<GeneratedCommand> CommandGenerator::StartBackPayment() {
  // Sealed employers settling their arrears are a good share of back-payments, often right
  // after they were sealed.
  while (!recently_sealed_.empty()) {
    const uint64_t id = recently_sealed_.back();
    recently_sealed_.pop_back();
    const ModelEmployer& e = *model_.employer(id);
    const EmployerInfo& info = info_[id];
    if (e.status == ModelStatus::kSealed && Quiet(id) && e.paid_up_to_month >= info.first_month &&
        !info.accounts.empty()) {
      return StartBackPaymentFor(id);
    }
  }
  const bool sealed_first = PerMille(300);
  auto candidate = [&](uint64_t id, const ModelEmployer& e) {
    const EmployerInfo& info = info_[id];
    return Quiet(id) && e.status != ModelStatus::kClosed &&
           (!sealed_first || e.status == ModelStatus::kSealed) &&
           e.paid_up_to_month >= info.first_month && !info.accounts.empty();
  };
  const auto employer = PickEmployer(candidate);
  if (!employer) return std::nullopt;
  return StartBackPaymentFor(*employer);
}

std::optional<GeneratedCommand> CommandGenerator::StartBackPaymentFor(uint64_t employer_id) {
  const std::optional<uint64_t> employer = employer_id;
  EmployerInfo& info = info_[*employer];
  const ModelEmployer& model = *model_.employer(*employer);
  std::vector<uint64_t> attached;
  for (const uint64_t id : info.accounts) {
    const ModelAccount* account = model_.account(id);
    if (account != nullptr && account->employer == *employer &&
        account->status != ModelStatus::kClosed) {
      attached.push_back(id);
    }
  }
  if (attached.empty()) return std::nullopt;
  // One to three months somewhere between the first month and the paid-up-to month.
  const uint32_t months_paid = MonthsFrom(info.first_month, model.paid_up_to_month);
  uint32_t from = info.first_month;
  for (uint64_t skip = Below(months_paid); skip > 0; --skip) from = NextMonth(from);
  uint32_t to = from;
  for (uint64_t extra = Below(3); extra > 0 && to < model.paid_up_to_month; --extra) {
    to = NextMonth(to);
  }
  Plan plan{.kind = RemittanceKind::kBackPayment, .from_month = from, .to_month = to};
  const uint64_t people = 1 + Below(std::min<size_t>(attached.size(), 3));
  for (uint64_t i = 0; i < people; ++i) {
    // Distinct people: a reversed line is then found again by account and month.
    const size_t pick = Below(attached.size());
    const uint64_t id = attached[pick];
    attached[pick] = attached.back();
    attached.pop_back();
    const ModelAccount& account = *model_.account(id);
    for (uint32_t month = from; month <= to; month = NextMonth(month)) {
      // What is still due: the whole base of an unpaid month (deferred, before the account's
      // first month, reversed), the shortfall of an under-paid one (its base raised after it
      // was paid); all of it, or a part (paid in instalments).
      const auto paid = account.paid_base.find(month);
      const int64_t due =
          BaseFor(account, month) - (paid == account.paid_base.end() ? 0 : paid->second);
      if (due <= 0) continue;
      int64_t base =
          PerMille(600) ? due : 1 + static_cast<int64_t>(Below(static_cast<uint64_t>(due)));
      // A line moves money: a part so small that both sides round to nothing is paid whole,
      // and a shortfall that small cannot be back-paid at all (found by the long run).
      const auto [employer_rate, employee_rate] = RatesFor(model, month);
      const auto moves = [&](int64_t b) {
        return ContributionFen(b, employer_rate) + ContributionFen(b, employee_rate) > 0;
      };
      if (!moves(base)) base = due;
      if (!moves(base)) continue;
      plan.lines.push_back(Line{.account = id, .month = month, .base_fen = base});
    }
  }
  if (plan.lines.empty()) return std::nullopt;
  for (const Line& line : plan.lines) {
    const auto [employer_rate, employee_rate] = RatesFor(model, line.month);
    plan.total_fen += ContributionFen(line.base_fen, employer_rate) +
                      ContributionFen(line.base_fen, employee_rate);
  }
  if (plan.total_fen <= 0) return std::nullopt;
  plan.remittance_id = next_remittance_++;
  info.plan = std::move(plan);
  AddToWork(*employer);
  return FlowStep(*employer);
}

// --- settlement of ended interest years, in chunks ---

std::optional<GeneratedCommand> CommandGenerator::Settlement() {
  while (!pending_.empty()) {
    const ModelAccount* front = model_.account(pending_.front());
    if (front != nullptr && front->status != ModelStatus::kClosed &&
        today_ >= InterestYearLastDay(front->interest_year)) {
      break;
    }
    pending_.pop_front();  // closed, or settled meanwhile
  }
  if (pending_.empty()) return std::nullopt;
  const int32_t year = model_.account(pending_.front())->interest_year;
  const uint64_t chunk_max = PerMille(100) ? kModelSettlementAccountsMax : 300;
  const uint64_t wanted = 1 + Below(chunk_max);
  settling_.clear();
  std::optional<uint64_t> in_flight;  // skipped: its payment pays the interest to date
  for (const uint64_t id : pending_) {
    const ModelAccount* account = model_.account(id);
    if (settling_.size() >= wanted || account->interest_year != year ||
        account->status == ModelStatus::kClosed) {
      break;
    }
    if (account->withdrawal_in_flight != 0) {
      in_flight = id;
      continue;
    }
    settling_.push_back(id);
  }
  ledger::SettleInterest settle{.interest_year = year};
  for (const uint64_t id : settling_) settle.accounts.push_back(AccountId{id});
  if (in_flight.has_value() && settle.accounts.size() < kModelSettlementAccountsMax &&
      (settling_.empty() ? PerMille(3) : PerMille(30))) {
    settle.accounts.insert(
        settle.accounts.begin() + static_cast<std::ptrdiff_t>(Below(settle.accounts.size() + 1)),
        AccountId{*in_flight});
    last_step_ = Step::kSettleInFlight;
    return GeneratedCommand{.command = Wrap(std::move(settle), today_),
                            .label = "settle: a chunk with a withdrawal in flight",
                            .meant_valid = false};
  }
  if (settling_.empty()) return std::nullopt;  // only withdrawals in flight wait
  last_step_ = Step::kSettle;
  return GeneratedCommand{.command = Wrap(std::move(settle), today_),
                          .label = "settle interest chunk",
                          .meant_valid = true};
}

// --- people and employers ---

GeneratedCommand CommandGenerator::RegisterNewEmployer() {
  const uint64_t id = next_employer_++;
  const uint32_t first = MonthOfDate(today_);
  return Make(ledger::RegisterEmployer{.employer = EmployerId{id},
                                       .unified_social_credit_code = CreditCode(id),
                                       .name = "Employer " + std::to_string(id),
                                       .bank_code = kBanks[id % std::size(kBanks)],
                                       .employer_rate = RatePpm{RandomRate()},
                                       .employee_rate = RatePpm{RandomRate()},
                                       .first_contribution_month = first},
              "register employer");
}

std::optional<GeneratedCommand> CommandGenerator::HireEmployee() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    return e.status == ModelStatus::kNormal && Quiet(id) &&
           info_[id].accounts.size() < info_[id].accounts_wanted;
  });
  if (!employer) return std::nullopt;
  const ModelEmployer& model = *model_.employer(*employer);
  const uint64_t id = next_account_++;
  // Mostly from the employer's next month; now and then registered late, from a month the
  // employer has paid already (the account joins the next list and back-pays the months
  // before).
  uint32_t first = NextMonth(model.paid_up_to_month);
  for (uint64_t late = PerMille(100) ? 1 + Below(3) : 0; late > 0; --late) {
    first = PrevMonth(first);
  }
  ledger::OpenAccount open{.account = AccountId{id},
                           .employer = EmployerId{*employer},
                           .person_id = id,
                           .contribution_base = Fen{RandomBase()},
                           .first_contribution_month = first};
  if (PerMille(800)) {  // the registry's digest of the person's document, when it has one
    for (uint8_t& byte : open.identity_digest) byte = static_cast<uint8_t>(rng_());
  }
  return Make(std::move(open),
              first <= model.paid_up_to_month ? "open account late" : "open account");
}

std::optional<GeneratedCommand> CommandGenerator::ChangeBase() {
  const auto account =
      PickAccount([](uint64_t, const ModelAccount& a) { return a.status == ModelStatus::kNormal; });
  if (!account) return std::nullopt;
  // The yearly base adjustment: a few percent up, now and then down, within floor and cap.
  const ModelAccount& model = *model_.account(*account);
  const int64_t old_base = model.base_fen;
  const int64_t change = old_base * static_cast<int64_t>(Below(160)) / 1000 - old_base / 40;
  const int64_t base = std::clamp(old_base + change, kModelBaseFloorFen, kModelBaseCapFen);
  // Now and then applied late, from this month (perhaps already paid: the difference is then
  // back-paid), when no list of the employer is being worked through.
  const uint32_t this_month = MonthOfDate(today_);
  if (PerMille(250) && Quiet(model.employer) && model.base_history.back().first <= this_month) {
    return Make(ledger::ChangeAccountBase{.account = AccountId{*account},
                                          .contribution_base = Fen{base},
                                          .from_month = this_month},
                "change account base late");
  }
  return Make(ledger::ChangeAccountBase{.account = AccountId{*account},
                                        .contribution_base = Fen{base},
                                        .from_month = NextMonth(this_month)},
              "change account base");
}

std::optional<GeneratedCommand> CommandGenerator::ChangeRates() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    return e.status == ModelStatus::kNormal && Quiet(id);
  });
  if (!employer) return std::nullopt;
  return Make(ledger::ChangeEmployerRates{.employer = EmployerId{*employer},
                                          .employer_rate = RatePpm{RandomRate()},
                                          .employee_rate = RatePpm{RandomRate()},
                                          .from_month = NextMonth(
                                              model_.employer(*employer)->paid_up_to_month)},
              "change employer rates");
}

std::optional<GeneratedCommand> CommandGenerator::SealSomeAccount() {
  const auto account = PickAccount([&](uint64_t, const ModelAccount& a) {
    return a.status == ModelStatus::kNormal && Quiet(a.employer);
  });
  if (!account) return std::nullopt;
  static constexpr ledger::AccountSealReason kReasons[] = {
      ledger::AccountSealReason::kLeftEmployer, ledger::AccountSealReason::kLeftEmployer,
      ledger::AccountSealReason::kEmployerSealed, ledger::AccountSealReason::kOther};
  return Make(ledger::SealAccount{.account = AccountId{*account},
                                  .reason = kReasons[Below(std::size(kReasons))]},
              "seal account");
}

std::optional<GeneratedCommand> CommandGenerator::UnsealSomeAccount() {
  const auto account =
      PickAccount([](uint64_t, const ModelAccount& a) { return a.status == ModelStatus::kSealed; });
  if (!account) return std::nullopt;
  // Back to the same employer now and then, mostly to a new one.
  // A back-payment list of the previous employer may still name the account.
  const uint64_t previous = model_.account(*account)->employer;
  if (!Quiet(previous)) return std::nullopt;
  std::optional<uint64_t> employer;
  if (PerMille(300) && model_.employer(previous)->status == ModelStatus::kNormal) {
    employer = previous;
  } else {
    employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
      return e.status == ModelStatus::kNormal && Quiet(id);
    });
  }
  if (!employer) return std::nullopt;
  return Make(ledger::UnsealAccount{.account = AccountId{*account},
                                    .employer = EmployerId{*employer},
                                    .contribution_base = Fen{RandomBase()},
                                    .first_contribution_month =
                                        NextMonth(model_.employer(*employer)->paid_up_to_month)},
              "unseal account");
}

std::optional<GeneratedCommand> CommandGenerator::FreezeOrUnfreeze(bool freeze) {
  const auto account = PickAccount([freeze](uint64_t, const ModelAccount& a) {
    return a.status != ModelStatus::kClosed && a.frozen != freeze;
  });
  if (!account) return std::nullopt;
  const std::string order =
      "(" + std::to_string(today_ / 10000) + ")Lu0203Zhi" + std::to_string(serial_);
  if (freeze) {
    return Make(ledger::FreezeAccount{.account = AccountId{*account},
                                      .court_order_reference = order,
                                      .authority = "Shinan District People's Court"},
                "freeze account");
  }
  return Make(ledger::UnfreezeAccount{.account = AccountId{*account},
                                      .court_order_reference = order,
                                      .authority = "Shinan District People's Court"},
              "unfreeze account");
}

std::optional<GeneratedCommand> CommandGenerator::CloseSomeAccount() {
  const auto account = PickAccount([&](uint64_t, const ModelAccount& a) {
    return a.status != ModelStatus::kClosed && !a.frozen && a.balance_fen == 0 && Quiet(a.employer);
  });
  if (!account) return std::nullopt;
  return Make(ledger::CloseAccount{.account = AccountId{*account}}, "close account");
}

std::optional<GeneratedCommand> CommandGenerator::SealSomeEmployer() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    if (e.status != ModelStatus::kNormal || e.suspense_fen != 0 || !Quiet(id)) return false;
    for (const uint64_t account : info_[id].accounts) {
      const ModelAccount* a = model_.account(account);
      if (a->employer == id && a->status == ModelStatus::kNormal) return false;
    }
    return true;
  });
  if (!employer) return std::nullopt;
  return Make(ledger::SealEmployer{.employer = EmployerId{*employer},
                                   .reason = ExitReason(),
                                   .approval_reference = Approval("FC-")},
              "seal employer");
}

std::optional<GeneratedCommand> CommandGenerator::ExtraReceipt() {
  const auto employer = PickEmployer(
      [](uint64_t, const ModelEmployer& e) { return e.status != ModelStatus::kClosed; });
  if (!employer) return std::nullopt;
  return Make(ledger::RecordBankReceipt{.employer = EmployerId{*employer},
                                        .bank_code = kBanks[*employer % std::size(kBanks)],
                                        .bank_reference = "BR" + std::to_string(serial_),
                                        .amount = Fen{static_cast<int64_t>(1 + Below(500'000))},
                                        .deposit_id = 1},
              "receipt paid in advance");
}

std::optional<GeneratedCommand> CommandGenerator::GrantReduction() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    return e.status == ModelStatus::kNormal && Quiet(id);
  });
  if (!employer) return std::nullopt;
  const ModelEmployer& e = *model_.employer(*employer);
  // 降比 for the coming months, each side somewhere between 5 % and its current rate.
  const uint32_t from = NextRegularMonth(e, e.paid_up_to_month);
  uint32_t to = from;
  for (uint64_t extra = Below(12); extra > 0; --extra) to = NextMonth(to);
  auto lower = [&](uint32_t current) {
    return static_cast<uint32_t>(kModelRateMinPpm + Below(current - kModelRateMinPpm + 1));
  };
  const ledger::GrantRateReduction body{.employer = EmployerId{*employer},
                                        .employer_rate = RatePpm{lower(e.employer_rate_ppm)},
                                        .employee_rate = RatePpm{lower(e.employee_rate_ppm)},
                                        .from_month = from,
                                        .to_month = to,
                                        .approval_reference = "JB-" + std::to_string(serial_)};
  if (model_.Check(Probe(body)).has_value()) return std::nullopt;  // overlaps an earlier one
  return Make(body, "grant rate reduction");
}

std::optional<GeneratedCommand> CommandGenerator::GrantDeferralAhead() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    return e.status == ModelStatus::kNormal && Quiet(id) &&
           NextMonth(e.paid_up_to_month) <= kModelDeferralLastMonth;
  });
  if (!employer) return std::nullopt;
  const ModelEmployer& e = *model_.employer(*employer);
  uint32_t from = NextRegularMonth(e, e.paid_up_to_month);
  for (uint64_t skip = Below(3); skip > 0; --skip) from = NextMonth(from);
  uint32_t to = from;
  for (uint64_t extra = Below(6); extra > 0 && to < kModelDeferralLastMonth; --extra) {
    to = NextMonth(to);
  }
  const ledger::GrantDeferral body{.employer = EmployerId{*employer},
                                   .from_month = from,
                                   .to_month = to,
                                   .approval_reference = "HJ-" + std::to_string(serial_)};
  if (model_.Check(Probe(body)).has_value()) return std::nullopt;  // beyond 2022 or overlaps
  return Make(body, "grant deferral");
}

std::optional<GeneratedCommand> CommandGenerator::CloseSomeEmployer() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    if (e.status == ModelStatus::kClosed || e.suspense_fen != 0 || !Quiet(id)) return false;
    for (const uint64_t account : info_[id].accounts) {
      const ModelAccount* a = model_.account(account);
      if (a->employer == id && a->status == ModelStatus::kNormal) return false;
    }
    return true;
  });
  if (!employer) return std::nullopt;
  return Make(ledger::CloseEmployer{.employer = EmployerId{*employer},
                                    .reason = ExitReason(),
                                    .approval_reference = Approval("XH-")},
              "close employer");
}

std::optional<GeneratedCommand> CommandGenerator::ReopenSomeEmployer() {
  const auto employer = PickEmployer([&](uint64_t id, const ModelEmployer& e) {
    return e.status == ModelStatus::kSealed && Quiet(id);
  });
  if (!employer) return std::nullopt;
  const uint32_t first =
      std::max(NextMonth(model_.employer(*employer)->paid_up_to_month), MonthOfDate(today_));
  info_[*employer].accounts_wanted = 1 + static_cast<uint32_t>(Below(8));
  return Make(
      ledger::ReopenEmployer{.employer = EmployerId{*employer}, .first_contribution_month = first},
      "reopen employer");
}

template <typename Ok>
std::optional<uint64_t> CommandGenerator::PickRecord(Ok ok) {
  const uint64_t head = model_.head_position();
  if (head == 0) return std::nullopt;
  // Mostly recent records (a mistake is usually found within days), now and then older.
  const uint64_t window = std::min<uint64_t>(head, PerMille(800) ? 5'000 : kModelJournalWindow);
  for (int probe = 0; probe < 24; ++probe) {
    const uint64_t position = head - Below(window);
    const JournalEntry* entry = model_.record(position);
    if (entry != nullptr && ok(position, *entry)) return position;
  }
  return std::nullopt;
}

ledger::ReverseRecord CommandGenerator::Reversal(uint64_t position) {
  static constexpr ledger::ReversalReason kReasons[] = {
      ledger::ReversalReason::kWrongAmount,  ledger::ReversalReason::kWrongAccount,
      ledger::ReversalReason::kWrongDate,    ledger::ReversalReason::kDuplicate,
      ledger::ReversalReason::kBankReturned, ledger::ReversalReason::kOther};
  return ledger::ReverseRecord{.position = position,
                               .reason = kReasons[Below(std::size(kReasons))],
                               .note = "found at the monthly reconciliation",
                               .approval_reference = "HC-" + std::to_string(serial_)};
}

std::optional<GeneratedCommand> CommandGenerator::ReverseSomething() {
  // What a reversal may upset is an open list: its line is allocated again right away (the
  // corrected record follows), so only lines that can be: a back-payment line, or a regular
  // line that is its account's latest month. A completed list's line leaves its month unpaid,
  // for a later back-payment; only a month back-paid ahead of the account's sequence can change
  // what its employer's next regular list holds, so that one waits for a quiet employer.
  const auto position = PickRecord([&](uint64_t, const JournalEntry& entry) {
    if (entry.reversed) return false;
    if (entry.kind == JournalKind::kReceipt || entry.kind == JournalKind::kInterest) return true;
    if (entry.kind != JournalKind::kAllocation) return false;
    const ModelEmployer* employer = model_.employer(entry.employer);
    const ModelAccount* account = model_.account(entry.account);
    const bool latest = entry.regular && account->paid_up_to_month == entry.month;
    const bool list_open =
        employer->remittance.has_value() && employer->remittance->id == entry.remittance_id;
    if (list_open) {
      const EmployerInfo& info = info_[entry.employer];
      return info.plan && info.plan->opened && info.plan->remittance_id == entry.remittance_id &&
             (!entry.regular || latest);
    }
    return entry.month <= account->paid_up_to_month || Quiet(account->employer);
  });
  if (!position) return std::nullopt;
  GeneratedCommand generated = Make(Reversal(*position), "reverse a money record");
  if (model_.Check(generated.command).has_value()) return std::nullopt;  // e.g. already spent
  const JournalEntry& entry = *model_.record(*position);
  requeue_.reset();
  if (entry.kind == JournalKind::kAllocation) {
    const ModelEmployer& employer = *model_.employer(entry.employer);
    if (employer.remittance.has_value() && employer.remittance->id == entry.remittance_id) {
      const Plan& plan = *info_[entry.employer].plan;
      for (size_t i = 0; i < plan.next_line; ++i) {
        if (plan.lines[i].account == entry.account && plan.lines[i].month == entry.month) {
          requeue_ = plan.lines[i];
          break;
        }
      }
      if (!requeue_) return std::nullopt;  // not a line of the plan: leave the list alone
    } else if (entry.regular && model_.account(entry.account)->paid_up_to_month == entry.month) {
      ++latest_month_reversals_;
    }
  }
  last_step_ = Step::kReversal;
  last_employer_ = entry.employer;
  return generated;
}

// --- closing withdrawals (销户提取): applied for, reviewed by another operator, paid ---

std::string CommandGenerator::OtherOperator(const std::string& actor) {
  for (;;) {  // ends: one of seven operators is excluded at most
    std::string other = "op:" + std::to_string(1 + Below(7));
    if (other != actor) return other;
  }
}

ledger::PayWithdrawal CommandGenerator::Payment(uint64_t withdrawal, uint64_t account) {
  return ledger::PayWithdrawal{.withdrawal_id = withdrawal,
                               .deposit_id = 1 + account % 3,
                               .bank_code = kBanks[account % std::size(kBanks)],
                               .bank_reference = "WP" + std::to_string(serial_)};
}

bool CommandGenerator::LinesLeftFor(uint64_t account) const {
  const ModelAccount* model = model_.account(account);
  auto it = info_.find(model->employer);
  if (it == info_.end() || !it->second.plan || !it->second.plan->opened) return false;
  const Plan& plan = *it->second.plan;
  for (size_t i = plan.next_line; i < plan.lines.size(); ++i) {
    if (plan.lines[i].account == account) return true;
  }
  return false;
}

void CommandGenerator::DropFromUnopenedPlan(uint64_t account) {
  const uint64_t employer = model_.account(account)->employer;
  auto it = info_.find(employer);
  if (it == info_.end() || !it->second.plan || it->second.plan->opened) return;
  Plan& plan = *it->second.plan;
  std::erase_if(plan.lines, [account](const Line& line) { return line.account == account; });
  if (plan.lines.empty()) {
    it->second.plan.reset();  // the money received for it waits in suspense for the next
    return;
  }
  plan.total_fen = 0;
  for (const Line& line : plan.lines) {
    const auto [employer_rate, employee_rate] = RatesFor(*model_.employer(employer), line.month);
    plan.total_fen += ContributionFen(line.base_fen, employer_rate) +
                      ContributionFen(line.base_fen, employee_rate);
  }
}

std::optional<GeneratedCommand> CommandGenerator::ApplyForWithdrawal() {
  auto eligible = [](uint64_t, const ModelAccount& a) {
    return a.status != ModelStatus::kClosed && !a.frozen && a.withdrawal_in_flight == 0;
  };
  std::optional<uint64_t> account;
  // Now and then one whose year has ended and waits for its settlement.
  if (!pending_.empty() && PerMille(300)) {
    const uint64_t id = pending_[Below(pending_.size())];
    if (eligible(id, *model_.account(id))) account = id;
  }
  if (!account) account = PickAccount(eligible);
  if (!account) return std::nullopt;
  static constexpr ledger::WithdrawalReason kReasons[] = {
      ledger::WithdrawalReason::kRetirement,  ledger::WithdrawalReason::kRetirement,
      ledger::WithdrawalReason::kRetirement,  ledger::WithdrawalReason::kLossOfWorkingCapacity,
      ledger::WithdrawalReason::kLeavingCity, ledger::WithdrawalReason::kDeath};
  return Make(ledger::ApplyWithdrawal{.withdrawal_id = next_withdrawal_++,
                                      .account = AccountId{*account},
                                      .reason = kReasons[Below(std::size(kReasons))],
                                      .payee_reference = "PAYEE-" + std::to_string(*account),
                                      .evidence_reference =
                                          PerMille(200) ? "" : "EV-" + std::to_string(serial_)},
              "withdrawal: apply (closing reason)");
}

std::optional<GeneratedCommand> CommandGenerator::AdvanceWithdrawal() {
  // Forget the finished ones (the model says which), keeping a few ids to name on purpose.
  for (size_t i = 0; i < withdrawals_.size();) {
    const ModelWithdrawalStatus status = model_.withdrawal(withdrawals_[i].id)->status;
    if (status == ModelWithdrawalStatus::kApplied || status == ModelWithdrawalStatus::kApproved) {
      ++i;
      continue;
    }
    finished_withdrawals_.push_back(withdrawals_[i].id);
    if (finished_withdrawals_.size() > 32) finished_withdrawals_.pop_front();
    withdrawals_[i] = withdrawals_.back();
    withdrawals_.pop_back();
  }
  if (withdrawals_.empty()) return std::nullopt;
  const WithdrawalInfo info = withdrawals_[Below(withdrawals_.size())];
  if (info.next_day > today_) return std::nullopt;
  const ModelWithdrawal& w = *model_.withdrawal(info.id);
  const ModelAccount& a = *model_.account(w.account);
  // Dated today; `actor` replaces the operator Wrap() names, when given.
  auto step = [&](ledger::CommandBody body, const char* label, bool valid,
                  const std::string* actor = nullptr) {
    GeneratedCommand generated{
        .command = Wrap(std::move(body), today_), .label = label, .meant_valid = valid};
    if (actor != nullptr) generated.command.header.actor = *actor;
    return std::optional<GeneratedCommand>(std::move(generated));
  };
  const std::string reviewer = OtherOperator(w.applicant);
  const std::string order =
      "(" + std::to_string(today_ / 10000) + ")Lu0203Zhi" + std::to_string(serial_);
  const std::string court = "Shinan District People's Court";
  if (a.status == ModelStatus::kClosed) {  // closed empty meanwhile (CloseAccount)
    return step(ledger::CancelWithdrawal{info.id, "the account was closed"},
                "withdrawal: cancelled, its account closed", true);
  }
  const uint64_t roll = Below(1000);
  if (w.status == ModelWithdrawalStatus::kApplied) {
    if (roll < 40) {
      return step(ledger::ApproveWithdrawal{info.id}, "withdrawal: approved by its applicant",
                  false, &w.applicant);
    }
    if (roll < 60) {
      return step(ledger::RejectWithdrawal{info.id, "evidence incomplete"},
                  "withdrawal: rejected by its applicant", false, &w.applicant);
    }
    if (roll < 90) {
      return step(Payment(info.id, w.account), "withdrawal: paid before approval", false);
    }
    if (roll < 140) {
      return step(ledger::CancelWithdrawal{info.id, "withdrawn by the person"},
                  "withdrawal: cancelled before review", true);
    }
    if (roll < 220) {
      return step(ledger::RejectWithdrawal{info.id, "retirement certificate not verified"},
                  "withdrawal: rejected by another operator", true, &reviewer);
    }
    return step(ledger::ApproveWithdrawal{info.id},
                a.frozen ? "withdrawal: approve, its account frozen"
                         : "withdrawal: approved by another operator",
                !a.frozen, &reviewer);
  }
  // Approved: the bank pays, unless a court order froze the account meanwhile.
  if (a.frozen) {
    if (roll < 400) {
      return step(Payment(info.id, w.account), "withdrawal: pay, its account frozen", false);
    }
    if (roll < 700) {
      return step(
          ledger::UnfreezeAccount{
              .account = AccountId{w.account}, .court_order_reference = order, .authority = court},
          "unfreeze: an account with a withdrawal approved", true);
    }
    return step(ledger::CancelWithdrawal{info.id, "the bank could not pay: account frozen"},
                "withdrawal: cancelled, its account frozen", true);
  }
  if (roll < 30) {
    return step(ledger::ApproveWithdrawal{info.id}, "withdrawal: approved twice", false, &reviewer);
  }
  if (roll < 50) {
    return step(ledger::RejectWithdrawal{info.id, "second thoughts"},
                "withdrawal: rejected after its approval", false, &reviewer);
  }
  if (roll < 80) {
    return step(
        ledger::FreezeAccount{
            .account = AccountId{w.account}, .court_order_reference = order, .authority = court},
        "freeze: an account with a withdrawal approved", true);
  }
  if (roll < 130 && a.latest_value_date % 100 > 1) {
    auto early = step(Payment(info.id, w.account),
                      "withdrawal: paid before money value-dated on the account", false);
    early->command.header.effective_date = a.latest_value_date - 1;
    return early;
  }
  if (roll < 160) {
    return step(ledger::CancelWithdrawal{info.id, "the bank returned the payment"},
                "withdrawal: cancelled after approval", true);
  }
  if (LinesLeftFor(w.account)) {
    // Its employer's list still has a line for it; a list the account's unsettled year holds
    // up (a line dated after 30 June) would wait for ever, so the payment gives up in time.
    if (today_ > DaysAfter(info.approved_on == 0 ? today_ : info.approved_on, 20)) {
      return step(ledger::CancelWithdrawal{info.id, "not paid in time"},
                  "withdrawal: cancelled, its last contribution pending", true);
    }
    return std::nullopt;
  }
  return step(Payment(info.id, w.account),
              today_ > InterestYearLastDay(a.interest_year)
                  ? "withdrawal: paid after 30 June, its year unsettled"
                  : "withdrawal: paid by the bank",
              true);
}

std::optional<GeneratedCommand> CommandGenerator::InvalidWithdrawal(uint64_t variant) {
  auto bad = [&](ledger::CommandBody body, const char* label) {
    return std::optional<GeneratedCommand>(GeneratedCommand{
        .command = Wrap(std::move(body), today_), .label = label, .meant_valid = false});
  };
  // A withdrawal in flight with `status`, or a finished one.
  auto in_flight = [&](ModelWithdrawalStatus status) -> std::optional<uint64_t> {
    for (int probe = 0; probe < 4 && !withdrawals_.empty(); ++probe) {
      const uint64_t id = withdrawals_[Below(withdrawals_.size())].id;
      if (model_.withdrawal(id)->status == status) return id;
    }
    return std::nullopt;
  };
  const std::optional<uint64_t> finished =
      finished_withdrawals_.empty()
          ? std::nullopt
          : std::optional(finished_withdrawals_[Below(finished_withdrawals_.size())]);
  const uint64_t unknown = 800'000'000 + Below(1'000'000);
  switch (variant) {
    case 0: {  // applications
      auto account = PickAccount([](uint64_t, const ModelAccount& a) {
        return a.status != ModelStatus::kClosed && !a.frozen && a.withdrawal_in_flight == 0;
      });
      if (!account) return std::nullopt;
      ledger::ApplyWithdrawal body{.withdrawal_id = next_withdrawal_++,
                                   .account = AccountId{*account},
                                   .reason = ledger::WithdrawalReason::kRetirement,
                                   .payee_reference = "PAYEE-X",
                                   .evidence_reference = "EV-X"};
      const char* label = "";
      switch (Below(10)) {
        case 0:
          (PerMille(500) ? body.withdrawal_id : body.account.value) = 0;
          label = "apply: withdrawal or account id 0";
          break;
        case 1: {
          static constexpr uint8_t kNotReasons[] = {0, 10, 11, 98, 100, 255};
          body.reason =
              static_cast<ledger::WithdrawalReason>(kNotReasons[Below(std::size(kNotReasons))]);
          label = "apply: a reason that is not a code";
          break;
        }
        case 2: {
          auto generated = bad(body, "apply: no applicant (empty actor)");
          generated->command.header.actor.clear();
          return generated;
        }
        case 3:
          (PerMille(500) ? body.payee_reference : body.evidence_reference)
              .assign(kModelTextBytesMax + 1, 'R');
          label = "apply: a reference too long";
          break;
        case 4: {
          static constexpr ledger::WithdrawalReason kPartial[] = {
              ledger::WithdrawalReason::kPurchase,       ledger::WithdrawalReason::kBuildOrOverhaul,
              ledger::WithdrawalReason::kLoanRepayment,  ledger::WithdrawalReason::kRent,
              ledger::WithdrawalReason::kSeriousIllness, ledger::WithdrawalReason::kOther};
          body.reason = kPartial[Below(std::size(kPartial))];
          label = "apply: a partial withdrawal (not offered)";
          break;
        }
        case 5: {
          const auto taken = finished.has_value()
                                 ? finished
                                 : in_flight(PerMille(500) ? ModelWithdrawalStatus::kApplied
                                                           : ModelWithdrawalStatus::kApproved);
          if (!taken) return std::nullopt;
          body.withdrawal_id = *taken;
          label = "apply: a withdrawal id already used";
          break;
        }
        case 6:
          body.account = AccountId{UnknownId()};
          label = "apply: unknown account";
          break;
        case 7: {
          auto closed = PickAccount(
              [](uint64_t, const ModelAccount& a) { return a.status == ModelStatus::kClosed; });
          if (!closed) return std::nullopt;
          body.account = AccountId{*closed};
          label = "apply: closed account";
          break;
        }
        case 8: {
          auto frozen = PickAccount([](uint64_t, const ModelAccount& a) {
            return a.status != ModelStatus::kClosed && a.frozen;
          });
          if (!frozen) return std::nullopt;
          body.account = AccountId{*frozen};
          label = "apply: frozen account";
          break;
        }
        default: {
          if (withdrawals_.empty()) return std::nullopt;
          body.account = AccountId{withdrawals_[Below(withdrawals_.size())].account};
          label = "apply: the account has a withdrawal in flight";
          break;
        }
      }
      return bad(body, label);
    }
    case 1: {  // reviews
      const bool approve = PerMille(500);
      auto review = [&](uint64_t id, const char* label) {
        return approve ? bad(ledger::ApproveWithdrawal{id}, label)
                       : bad(ledger::RejectWithdrawal{id, "not eligible"}, label);
      };
      switch (Below(6)) {
        case 0:
          return review(PerMille(500) ? 0 : unknown, "review: withdrawal id 0 or unknown");
        case 1: {
          const auto id = in_flight(ModelWithdrawalStatus::kApplied);
          if (!id) return std::nullopt;
          auto generated = review(*id, "review: no reviewer (empty actor)");
          generated->command.header.actor.clear();
          return generated;
        }
        case 2: {
          const auto id = in_flight(ModelWithdrawalStatus::kApplied);
          if (!id) return std::nullopt;
          return bad(
              ledger::RejectWithdrawal{
                  *id, PerMille(500) ? std::string() : std::string(kModelNoteBytesMax + 1, 'W')},
              "reject: reason empty or too long");
        }
        case 3:
          if (!finished) return std::nullopt;
          return review(*finished, "review: a finished withdrawal");
        case 4: {
          const auto id = in_flight(ModelWithdrawalStatus::kApproved);
          if (!id) return std::nullopt;
          return review(*id, "review: an approved withdrawal");
        }
        default: {
          const auto id = in_flight(ModelWithdrawalStatus::kApplied);
          if (!id) return std::nullopt;
          auto generated = review(*id, "review: by its applicant");
          generated->command.header.actor = model_.withdrawal(*id)->applicant;
          return generated;
        }
      }
    }
    case 2: {  // payments
      const auto approved = in_flight(ModelWithdrawalStatus::kApproved);
      const uint64_t id = approved.value_or(unknown);
      ledger::PayWithdrawal body = Payment(id, 1);
      switch (Below(6)) {
        case 0:
          body.withdrawal_id = PerMille(500) ? 0 : unknown;
          return bad(body, "pay: withdrawal id 0 or unknown");
        case 1:
          body.deposit_id = 0;
          return bad(body, "pay: deposit id 0");
        case 2:
          if (PerMille(500)) {
            body.bank_code = PerMille(500) ? "" : std::string(kModelCodeBytesMax + 1, 'B');
          } else {
            body.bank_reference = PerMille(500) ? "" : std::string(kModelTextBytesMax + 1, 'R');
          }
          return bad(body, "pay: bank code or reference empty or too long");
        case 3: {
          const auto applied = in_flight(ModelWithdrawalStatus::kApplied);
          if (!applied) return std::nullopt;
          body.withdrawal_id = *applied;
          return bad(body, "pay: not approved");
        }
        case 4:
          if (!finished) return std::nullopt;
          body.withdrawal_id = *finished;
          return bad(body, "pay: a finished withdrawal");
        default: {
          if (!approved) return std::nullopt;
          // The day before the open year's first day: money (the year's opening) is dated later.
          const ModelAccount& a = *model_.account(model_.withdrawal(id)->account);
          const uint32_t day_before = InterestYearLastDay(a.interest_year - 1);
          if (day_before < kModelFirstDate) return std::nullopt;
          auto generated = bad(body, "pay: dated before the account's open year");
          generated->command.header.effective_date = day_before;
          return generated;
        }
      }
    }
    default: {  // cancellations
      ledger::CancelWithdrawal body{.withdrawal_id = unknown, .reason = "withdrawn"};
      switch (Below(4)) {
        case 0:
          if (PerMille(500)) body.withdrawal_id = 0;
          return bad(body, "cancel: withdrawal id 0 or unknown");
        case 1:
          if (!finished) return std::nullopt;
          body.withdrawal_id = *finished;
          return bad(body, "cancel: a finished withdrawal");
        default: {
          if (withdrawals_.empty()) return std::nullopt;
          body.withdrawal_id = withdrawals_[Below(withdrawals_.size())].id;
          body.reason = PerMille(500) ? std::string() : std::string(kModelNoteBytesMax + 1, 'C');
          return bad(body, "cancel: reason empty or too long");
        }
      }
    }
  }
}

// --- rule breakers: each names the rule it means to break; the model decides ---

std::optional<uint64_t> CommandGenerator::EmptyButForAList() const {
  // Typically a sealed employer paying its arrears: a list open, no one contributing.
  for (const uint64_t id : work_) {
    const ModelEmployer& e = *model_.employer(id);
    if (e.status == ModelStatus::kClosed || !e.remittance.has_value()) continue;
    const auto& accounts = info_.at(id).accounts;
    if (std::none_of(accounts.begin(), accounts.end(), [&](uint64_t account) {
          const ModelAccount& a = *model_.account(account);
          return a.employer == id && a.status == ModelStatus::kNormal;
        })) {
      return id;
    }
  }
  return std::nullopt;
}

std::optional<GeneratedCommand> CommandGenerator::Invalid(uint64_t variant) {
  using ledger::AllocateContribution;
  auto any_employer = [](uint64_t, const ModelEmployer&) { return true; };
  auto any_account = [](uint64_t, const ModelAccount&) { return true; };
  auto normal_employer = [](uint64_t, const ModelEmployer& e) {
    return e.status == ModelStatus::kNormal;
  };
  auto sealed_employer = [](uint64_t, const ModelEmployer& e) {
    return e.status == ModelStatus::kSealed;
  };
  auto open_account = [](uint64_t, const ModelAccount& a) {
    return a.status != ModelStatus::kClosed;
  };
  auto bad = [&](ledger::CommandBody body, const char* label) {
    return std::optional<GeneratedCommand>(GeneratedCommand{
        .command = Wrap(std::move(body), today_), .label = label, .meant_valid = false});
  };
  auto register_body = [&](uint64_t id) {
    return ledger::RegisterEmployer{.employer = EmployerId{id},
                                    .unified_social_credit_code = CreditCode(id),
                                    .name = "Employer " + std::to_string(id),
                                    .bank_code = "ICBC",
                                    .employer_rate = RatePpm{RandomRate()},
                                    .employee_rate = RatePpm{RandomRate()},
                                    .first_contribution_month = MonthOfDate(today_)};
  };
  auto receipt_body = [&](uint64_t employer, int64_t amount) {
    return ledger::RecordBankReceipt{.employer = EmployerId{employer},
                                     .bank_code = "ICBC",
                                     .bank_reference = "BR" + std::to_string(serial_),
                                     .amount = Fen{amount},
                                     .deposit_id = 1};
  };
  static constexpr uint32_t kBadMonths[] = {0, 202213, 202200, 198912, 220001, 99999};
  const uint32_t bad_month = kBadMonths[Below(std::size(kBadMonths))];
  static constexpr uint32_t kBadRates[] = {0, 49'999, 120'001, 1'000'000, 30'000};
  const uint32_t bad_rate = kBadRates[Below(std::size(kBadRates))];
  const int64_t bad_base = PerMille(500) ? kModelBaseFloorFen - 1 : kModelBaseCapFen + 1;

  switch (variant) {
    case 0: {  // header
      auto generated = ExtraReceipt();
      if (!generated) return std::nullopt;
      generated->command.header.idempotency_key.clear();
      generated->label = "header: no idempotency key";
      generated->meant_valid = false;
      return generated;
    }
    case 1: {
      static constexpr uint32_t kBadDates[] = {0,        20230229, 20221301, 20220000, 19891231,
                                               19900315, 21990701, 22000101, 99991231};
      auto generated = ExtraReceipt();
      if (!generated) return std::nullopt;
      generated->command.header.effective_date = kBadDates[Below(std::size(kBadDates))];
      generated->label = "header: effective date not a date in range";
      generated->meant_valid = false;
      return generated;
    }
    case 2: {
      const auto id = PickEmployer(any_employer);
      if (!id) return std::nullopt;
      return bad(register_body(*id), "register: employer id taken");
    }
    case 3: {
      auto body = register_body(next_employer_++);
      static const char* kCodes[] = {"91370200MA3C5X0F2", "91370200ma3C5X0F2K",
                                     "91370200MA3C5X0F2K9", "", "91370200MA3C5X0F-K"};
      body.unified_social_credit_code = kCodes[Below(std::size(kCodes))];
      return bad(body, "register: credit code malformed");
    }
    case 4: {
      auto body = register_body(next_employer_++);
      if (PerMille(500)) {
        body.name = PerMille(500) ? "" : std::string(kModelTextBytesMax + 1, 'N');
      } else {
        body.bank_code = PerMille(500) ? "" : std::string(kModelCodeBytesMax + 1, 'B');
      }
      return bad(body, "register: name or bank code empty or too long");
    }
    case 5: {
      auto body = register_body(next_employer_++);
      (PerMille(500) ? body.employer_rate : body.employee_rate) = RatePpm{bad_rate};
      return bad(body, "register: rate out of bounds");
    }
    case 6: {
      auto body = register_body(next_employer_++);
      body.first_contribution_month = bad_month;
      return bad(body, "register: first month invalid");
    }
    case 7: {
      const uint64_t roll = Below(4);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickEmployer(sealed_employer)
                            : PickEmployer(normal_employer);
      if (!id) return std::nullopt;
      ledger::ChangeEmployerRates body{.employer = EmployerId{*id},
                                       .employer_rate = RatePpm{RandomRate()},
                                       .employee_rate = RatePpm{RandomRate()},
                                       .from_month = NextMonth(MonthOfDate(today_))};
      if (roll == 2) body.employee_rate = RatePpm{bad_rate};
      if (roll == 3) body.from_month = bad_month;
      return bad(body, "change rates: unknown or sealed employer, bad rate or month");
    }
    case 8: {
      const uint64_t roll = Below(3);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickEmployer(sealed_employer)
                            : PickEmployer([](uint64_t, const ModelEmployer& e) {
                                return e.status == ModelStatus::kNormal && e.suspense_fen > 0;
                              });
      if (!id) return std::nullopt;
      return bad(ledger::SealEmployer{.employer = EmployerId{*id}},
                 "seal employer: unknown, sealed, with accounts or suspense");
    }
    case 9: {
      const auto id = PickAccount(any_account);
      const auto employer = PickEmployer(normal_employer);
      if (!id || !employer) return std::nullopt;
      return bad(ledger::OpenAccount{.account = AccountId{*id},
                                     .employer = EmployerId{*employer},
                                     .person_id = *id,
                                     .contribution_base = Fen{RandomBase()},
                                     .first_contribution_month = MonthOfDate(today_)},
                 "open account: account id taken");
    }
    case 10: {
      const uint64_t roll = Below(4);
      auto employer = roll == 0   ? std::optional<uint64_t>(UnknownId())
                      : roll == 1 ? PickEmployer(sealed_employer)
                                  : PickEmployer(normal_employer);
      if (!employer) return std::nullopt;
      const uint64_t id = next_account_++;
      ledger::OpenAccount body{.account = AccountId{id},
                               .employer = EmployerId{*employer},
                               .person_id = id,
                               .contribution_base = Fen{RandomBase()},
                               .first_contribution_month = MonthOfDate(today_)};
      if (roll == 2) body.contribution_base = Fen{bad_base};
      if (roll == 3) body.first_contribution_month = bad_month;
      return bad(body, "open account: unknown or sealed employer, bad base or month");
    }
    case 11: {
      const uint64_t roll = Below(4);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickAccount([](uint64_t, const ModelAccount& a) {
                    return a.status != ModelStatus::kNormal;
                  })
                            : PickAccount([](uint64_t, const ModelAccount& a) {
                                return a.status == ModelStatus::kNormal;
                              });
      if (!id) return std::nullopt;
      ledger::ChangeAccountBase body{.account = AccountId{*id},
                                     .contribution_base = Fen{RandomBase()},
                                     .from_month = NextMonth(MonthOfDate(today_))};
      if (roll == 2) body.contribution_base = Fen{bad_base};
      if (roll == 3) body.from_month = bad_month;
      return bad(body, "change base: unknown, sealed or closed account, bad base or month");
    }
    case 12: {
      auto id = PerMille(300) ? std::optional<uint64_t>(UnknownId())
                              : PickAccount([](uint64_t, const ModelAccount& a) {
                                  return a.status != ModelStatus::kNormal;
                                });
      if (!id) return std::nullopt;
      return bad(ledger::SealAccount{.account = AccountId{*id}},
                 "seal account: unknown, sealed or closed");
    }
    case 13: {
      const uint64_t roll = Below(5);
      auto id = roll == 0 ? PickAccount([](uint64_t, const ModelAccount& a) {
        return a.status != ModelStatus::kSealed;
      })
                          : PickAccount([](uint64_t, const ModelAccount& a) {
                              return a.status == ModelStatus::kSealed;
                            });
      auto employer = roll == 1   ? std::optional<uint64_t>(UnknownId())
                      : roll == 2 ? PickEmployer(sealed_employer)
                                  : PickEmployer(normal_employer);
      if (!id || !employer) return std::nullopt;
      ledger::UnsealAccount body{.account = AccountId{*id},
                                 .employer = EmployerId{*employer},
                                 .contribution_base = Fen{RandomBase()},
                                 .first_contribution_month = MonthOfDate(today_)};
      if (roll == 3) body.contribution_base = Fen{bad_base};
      if (roll == 4) body.first_contribution_month = bad_month;
      return bad(body, "unseal: not sealed, unknown or sealed employer, bad base or month");
    }
    case 14: {
      const uint64_t roll = Below(5);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickAccount([](uint64_t, const ModelAccount& a) {
                    return a.status == ModelStatus::kClosed;
                  })
                            : PickAccount(open_account);
      if (roll == 4 && PerMille(500)) {  // a second court order for a frozen account
        id = PickAccount([](uint64_t, const ModelAccount& a) {
          return a.status != ModelStatus::kClosed && a.frozen;
        });
      }
      if (!id) return std::nullopt;
      std::string order = "(2022)Lu0203Zhi" + std::to_string(serial_);
      std::string authority = "Shinan District People's Court";
      if (roll == 2) (PerMille(500) ? order : authority).clear();
      if (roll == 3) authority.assign(kModelTextBytesMax + 1, 'A');
      const bool freeze = roll == 4 ? model_.account(*id)->frozen : PerMille(500);
      if (freeze) {
        return bad(
            ledger::FreezeAccount{
                .account = AccountId{*id}, .court_order_reference = order, .authority = authority},
            "freeze: frozen, unknown or closed account, bad text");
      }
      return bad(
          ledger::UnfreezeAccount{
              .account = AccountId{*id}, .court_order_reference = order, .authority = authority},
          "unfreeze: not frozen, unknown or closed account, bad text");
    }
    case 15: {
      auto id = PerMille(200)
                    ? PickAccount(any_account)
                    : PickAccount([](uint64_t, const ModelAccount& a) {
                        return a.status != ModelStatus::kClosed && (a.frozen || a.balance_fen != 0);
                      });
      if (!id) return std::nullopt;
      return bad(ledger::CloseAccount{.account = AccountId{*id}},
                 "close: frozen, with balance or closed");
    }
    case 16: {
      const uint64_t roll = Below(6);
      auto employer = roll == 0 ? std::optional<uint64_t>(UnknownId()) : PickEmployer(any_employer);
      if (!employer) return std::nullopt;
      auto body = receipt_body(*employer, 1 + static_cast<int64_t>(Below(100'000)));
      if (roll == 1) body.amount = Fen{0};
      if (roll == 2) body.amount = Fen{-1 - static_cast<int64_t>(Below(100'000))};
      if (roll == 3) body.amount = Fen{kModelAmountMaxFen + 1};
      if (roll == 4) body.bank_reference.clear();
      if (roll == 5) body.bank_code.assign(kModelCodeBytesMax + 1, 'B');
      return bad(body, "receipt: unknown employer, amount <= 0 or over the limit, bad text");
    }
    case 17:
    case 18:
    case 19: {
      // Lists: the period, the sequence, the one-at-a-time rule, the fields.
      const auto employer = PickEmployer(any_employer);
      if (!employer) return std::nullopt;
      const ModelEmployer& e = *model_.employer(*employer);
      const uint32_t next_due = NextMonth(e.paid_up_to_month);
      ledger::OpenRemittance body{.remittance_id = next_remittance_++,
                                  .employer = EmployerId{*employer},
                                  .kind = RemittanceKind::kRegular,
                                  .from_month = next_due,
                                  .to_month = next_due,
                                  .accounts_count = 1,
                                  .total = Fen{1 + static_cast<int64_t>(Below(1'000'000))},
                                  .list_reference = "LIST-X" + std::to_string(serial_)};
      const char* label = "open list: a second unfinished list";
      if (!e.remittance.has_value() || PerMille(300)) {
        switch (Below(10)) {
          case 0:
            body.from_month = body.to_month = NextMonth(next_due);
            label = "open list: regular, skips a month";
            break;
          case 8:
            if (e.last_remittance_id == 0 || e.remittance.has_value()) return std::nullopt;
            body.remittance_id = e.last_remittance_id - Below(e.last_remittance_id);
            label = "open list: an id already used";
            break;
          case 1:
            body.from_month = e.paid_up_to_month;
            label = "open list: regular, month already paid";
            break;
          case 2:
            body.kind = RemittanceKind::kBackPayment;
            body.from_month = e.paid_up_to_month;
            body.to_month = next_due;
            label = "open list: back-payment reaching an unpaid month";
            break;
          case 3:
            body.from_month = NextMonth(next_due);
            body.to_month = next_due;
            label = "open list: from after to";
            break;
          case 4:
            (PerMille(500) ? body.from_month : body.to_month) = bad_month;
            label = "open list: month invalid";
            break;
          case 5:
            body.total = PerMille(500) ? Fen{0} : Fen{kModelAmountMaxFen + 1};
            label = "open list: total zero or over the limit";
            break;
          case 6:
            body.employer = EmployerId{UnknownId()};
            label = "open list: unknown employer";
            break;
          case 7:
            body.list_reference.clear();
            label = "open list: no list reference";
            break;
          default: {
            const auto sealed = PickEmployer(sealed_employer);
            if (!sealed) return std::nullopt;
            body.employer = EmployerId{*sealed};
            body.from_month = body.to_month = NextMonth(model_.employer(*sealed)->paid_up_to_month);
            label = "open list: regular for a sealed employer";
            break;
          }
        }
      }
      // Anything accepted here would open a list nobody completes: send only lists the
      // model rejects.

      return bad(body, label);
    }
    case 20:
    case 21:
    case 22:
    case 23:
    case 24:
    case 25: {
      // Lines: the amounts, the month, the account, the list, the money.
      const auto employer = PickOpenPlan(true);
      if (!employer) return std::nullopt;
      const Plan& plan = *info_[*employer].plan;
      const Line& line = plan.lines[plan.next_line];
      AllocateContribution body = LineCommand(*employer, plan, line);
      const ModelEmployer& e = *model_.employer(*employer);
      const char* label = "";
      bool after_year_end = false;
      switch (Below(16)) {
        case 0:
          body.employer_amount.value += PerMille(500) ? 1 : -1;
          label = "allocate: employer side off by a fen";
          break;
        case 1:
          body.employee_amount.value += PerMille(500) ? 1 : -1;
          label = "allocate: employee side off by a fen";
          break;
        case 2:
          body.month = NextMonth(body.month);
          label = "allocate: month out of sequence or outside the list";
          break;
        case 3:
          body.month = PrevMonth(plan.from_month);
          label = "allocate: month before the list";
          break;
        case 4:
          body.account =
              AccountId{PerMille(500) ? UnknownId() : account_ids_[Below(account_ids_.size())]};
          label = "allocate: unknown account or another employer's";
          break;
        case 5:
          body.remittance_id += 1 + Below(3);
          label = "allocate: not the open list";
          break;
        case 6:
          body.employer =
              EmployerId{PerMille(500) ? UnknownId() : employer_ids_[Below(employer_ids_.size())]};
          label = "allocate: unknown employer or another's list";
          break;
        case 7:
          body.contribution_base = Fen{PerMille(500) ? kModelBaseCapFen + 1 : 0};
          label = "allocate: base above the cap or zero";
          break;
        case 8:
          body.contribution_base = Fen{kModelBaseFloorFen - 1 - static_cast<int64_t>(Below(100))};
          body.employer_amount =
              Fen{ContributionFen(body.contribution_base.value, e.employer_rate_ppm)};
          body.employee_amount =
              Fen{ContributionFen(body.contribution_base.value, e.employee_rate_ppm)};
          label = "allocate: base below the floor (amounts consistent)";
          break;
        case 9:
          body.employer_amount = Fen{-body.employer_amount.value};
          label = "allocate: negative amount";
          break;
        case 10:
          body.employer_amount = body.employee_amount = Fen{0};
          label = "allocate: nothing to allocate";
          break;
        case 11:
          body.month = bad_month;
          label = "allocate: month invalid";
          break;
        case 12: {
          // Before the money arrived: only meaningful when the suspense is short.
          const int64_t due = body.employer_amount.value + body.employee_amount.value;
          if (e.suspense_fen >= due) return std::nullopt;
          label = "allocate: more than the suspense";
          break;
        }
        case 13:
          after_year_end = true;
          label = "allocate: value-dated after the interest year";
          break;
        case 14: {
          // A back-payment beyond what is still due for the month (nothing, if it is paid).
          if (plan.kind != RemittanceKind::kBackPayment) return std::nullopt;
          const ModelAccount& a = *model_.account(line.account);
          const auto paid = a.paid_base.find(line.month);
          const int64_t due =
              BaseFor(a, line.month) - (paid == a.paid_base.end() ? 0 : paid->second);
          const int64_t base = std::max<int64_t>(due, 0) + 1 + static_cast<int64_t>(Below(5'000));
          if (base > kModelBaseCapFen) return std::nullopt;
          const auto [employer_rate, employee_rate] = RatesFor(e, line.month);
          body.contribution_base = Fen{base};
          body.employer_amount = Fen{ContributionFen(base, employer_rate)};
          body.employee_amount = Fen{ContributionFen(base, employee_rate)};
          label = "allocate: back-payment beyond what is due";
          break;
        }
        default: {
          // A line the list has no room for: a larger base than the list counted on, with
          // money enough in suspense for it.
          const int64_t room = e.remittance->total_fen - e.remittance->allocated_fen;
          const auto [employer_rate, employee_rate] = RatesFor(e, line.month);
          bool found = false;
          for (int64_t base = line.base_fen + 1'000; base <= kModelBaseCapFen && !found;
               base += 1'000) {
            const int64_t due =
                ContributionFen(base, employer_rate) + ContributionFen(base, employee_rate);
            if (due > e.suspense_fen) break;
            if (due > room) {
              body.contribution_base = Fen{base};
              body.employer_amount = Fen{ContributionFen(base, employer_rate)};
              body.employee_amount = Fen{ContributionFen(base, employee_rate)};
              found = true;
            }
          }
          if (!found) return std::nullopt;
          label = "allocate: over the list total";
          break;
        }
      }
      auto generated = bad(body, label);
      if (after_year_end) {
        generated->command.header.effective_date =
            static_cast<uint32_t>(InterestYearOf(today_) + 1) * 10000 + 701;
      }
      return generated;
    }
    case 26:
    case 27: {
      const auto employer = PickOpenPlan(false);
      if (!employer) return std::nullopt;
      const Plan& plan = *info_[*employer].plan;
      ledger::CompleteRemittance body{.remittance_id = plan.remittance_id,
                                      .employer = EmployerId{*employer}};
      const char* label = "complete: lines still to allocate";
      if (plan.next_line >= plan.lines.size() || PerMille(400)) {
        if (PerMille(500)) {
          body.remittance_id += 1;
          label = "complete: not the open list";
        } else {
          body.employer = EmployerId{UnknownId()};
          label = "complete: unknown employer";
        }
      }
      return bad(body, label);
    }
    case 28:
    case 29: {
      const int32_t year = InterestYearOf(today_);
      ledger::SettleInterest body{.interest_year = year - 1};
      const char* label = "";
      const auto id = PickAccount(open_account);
      if (!id) return std::nullopt;
      switch (Below(8)) {
        case 0:
          body.interest_year = PerMille(500) ? 1989 : 2199;
          body.accounts = {AccountId{*id}};
          label = "settle: year not supported";
          break;
        case 1:
          body.interest_year = year;
          body.accounts = {AccountId{*id}};
          label = "settle: before the year's last day";
          break;
        case 2:
          label = "settle: empty chunk";
          break;
        case 3:
          body.accounts.assign(kModelSettlementAccountsMax + 1, AccountId{*id});
          label = "settle: chunk over the limit";
          break;
        case 4:
          body.accounts = {AccountId{*id}, AccountId{*id}};
          label = "settle: an account twice";
          break;
        case 5: {
          const auto closed = PickAccount(
              [](uint64_t, const ModelAccount& a) { return a.status == ModelStatus::kClosed; });
          body.accounts = {AccountId{closed ? *closed : UnknownId()}};
          label = "settle: closed or unknown account";
          break;
        }
        case 6:
          body.interest_year = model_.account(*id)->interest_year - 1;
          body.accounts = {AccountId{*id}};
          label = "settle: year already settled";
          break;
        default:
          body.interest_year = model_.account(*id)->interest_year + 1;
          body.accounts = {AccountId{*id}};
          label = "settle: a later year first";
          break;
      }

      return GeneratedCommand{
          .command = Wrap(std::move(body), today_), .label = label, .meant_valid = false};
    }
    case 30: {
      const uint64_t roll = Below(6);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickEmployer(sealed_employer)
                            : PickEmployer(normal_employer);
      if (!id) return std::nullopt;
      const ModelEmployer e = model_.employer(*id) != nullptr
                                  ? *model_.employer(*id)
                                  : ModelEmployer{.paid_up_to_month = 202112};
      ledger::GrantRateReduction body{.employer = EmployerId{*id},
                                      .employer_rate = RatePpm{kModelRateMinPpm},
                                      .employee_rate = RatePpm{kModelRateMinPpm},
                                      .from_month = NextMonth(e.paid_up_to_month),
                                      .to_month = NextMonth(e.paid_up_to_month),
                                      .approval_reference = "JB-X" + std::to_string(serial_)};
      if (roll == 2)
        body.employee_rate = RatePpm{kModelRateMinPpm - 1 - static_cast<uint32_t>(Below(10'000))};
      if (roll == 3) body.employer_rate = RatePpm{e.employer_rate_ppm + 1};
      if (roll == 4) {
        if (e.reductions.empty()) return std::nullopt;
        body.from_month = body.to_month = e.reductions.back().to_month;
      }
      if (roll == 5) {
        if (PerMille(500)) {
          body.from_month = NextMonth(body.to_month);
        } else {
          body.approval_reference.clear();
        }
      }
      return bad(body, "reduction: below 5 %, above the current rate, overlapping, bad period");
    }
    case 31: {
      const uint64_t roll = Below(5);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickEmployer(sealed_employer)
                            : PickEmployer(normal_employer);
      if (!id) return std::nullopt;
      const ModelEmployer e = model_.employer(*id) != nullptr
                                  ? *model_.employer(*id)
                                  : ModelEmployer{.paid_up_to_month = 202112};
      ledger::GrantDeferral body{.employer = EmployerId{*id},
                                 .from_month = 202201,
                                 .to_month = 202206,
                                 .approval_reference = "HJ-X" + std::to_string(serial_)};
      if (roll == 2) body.to_month = PerMille(500) ? 202301 : MonthOfDate(today_) + 100;
      if (roll == 3) {
        if (e.deferrals.empty()) return std::nullopt;
        body.from_month = body.to_month = e.deferrals.front().from_month;
      }
      if (roll == 4) {
        if (PerMille(500)) {
          body.from_month = bad_month;
        } else {
          body.approval_reference.assign(kModelTextBytesMax + 1, 'H');
        }
      }
      return bad(body, "deferral: beyond the policy, overlapping, bad period or employer");
    }
    case 32: {
      const uint64_t roll = Below(4);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickEmployer([](uint64_t, const ModelEmployer& e) {
                    return e.status == ModelStatus::kClosed;
                  })
                : roll == 2 ? PickEmployer([](uint64_t, const ModelEmployer& e) {
                    return e.status != ModelStatus::kClosed && e.suspense_fen > 0;
                  })
                            : EmptyButForAList();
      if (!id) return std::nullopt;
      if (roll == 3 && PerMille(500)) {
        return bad(ledger::SealEmployer{.employer = EmployerId{*id}},
                   "seal employer: a list unfinished");
      }
      return bad(ledger::CloseEmployer{.employer = EmployerId{*id}},
                 "close employer: unknown, closed, with accounts, a list or suspense");
    }
    case 33: {
      const uint64_t roll = Below(4);
      auto id = roll == 0   ? std::optional<uint64_t>(UnknownId())
                : roll == 1 ? PickEmployer(normal_employer)
                            : PickEmployer(sealed_employer);
      if (!id) return std::nullopt;
      ledger::ReopenEmployer body{.employer = EmployerId{*id},
                                  .first_contribution_month = MonthOfDate(today_)};
      if (roll == 2) body.first_contribution_month = model_.employer(*id)->paid_up_to_month;
      if (roll == 3) body.first_contribution_month = bad_month;
      return bad(body, "reopen employer: unknown, not sealed, month already paid or invalid");
    }
    case 34:
    case 35: {
      std::optional<uint64_t> position;
      const char* label = "";
      switch (Below(7)) {
        case 0:
          position = PerMille(500) ? 0 : model_.head_position() + 1 + Below(10);
          label = "reverse: no record at that position";
          break;
        case 1:
          position = PickRecord([](uint64_t, const JournalEntry& entry) {
            return entry.kind == JournalKind::kLifecycle || entry.kind == JournalKind::kReversal;
          });
          label = "reverse: a record that moves no money";
          break;
        case 2:
          position = PickRecord([](uint64_t, const JournalEntry& entry) { return entry.reversed; });
          label = "reverse: already reversed";
          break;
        case 3:
          position = PickRecord([&](uint64_t, const JournalEntry& entry) {
            return entry.kind == JournalKind::kReceipt && !entry.reversed &&
                   model_.employer(entry.employer)->suspense_fen < entry.amount_fen;
          });
          label = "reverse: a receipt already allocated";
          break;
        case 4:
          position = PickRecord([&](uint64_t, const JournalEntry& entry) {
            return entry.kind == JournalKind::kAllocation && !entry.reversed &&
                   model_.account(entry.account)->frozen;
          });
          label = "reverse: an allocation to a frozen account";
          break;
        default:
          position = PickRecord([&](uint64_t, const JournalEntry& entry) {
            return entry.kind == JournalKind::kAllocation && !entry.reversed &&
                   model_.account(entry.account)->balance_fen < entry.amount_fen;
          });
          label = "reverse: more than the account holds";
          break;
      }
      if (!position) return std::nullopt;
      return bad(Reversal(*position), label);
    }
    case 36: {
      // An id left out (0): each command names its entities first.
      const auto employer = PickEmployer(any_employer);
      const auto account = PickAccount(any_account);
      if (!employer || !account) return std::nullopt;
      switch (Below(6)) {
        case 0:
          return bad(register_body(0), "ids: employer 0");
        case 1:
          return bad(ledger::OpenAccount{.account = AccountId{next_account_++},
                                         .employer = EmployerId{*employer},
                                         .person_id = 0,
                                         .contribution_base = Fen{RandomBase()},
                                         .first_contribution_month = MonthOfDate(today_)},
                     "ids: person 0");
        case 2:
          return bad(ledger::SealAccount{.account = AccountId{0}}, "ids: account 0");
        case 3: {
          auto body = receipt_body(*employer, 100);
          body.deposit_id = 0;
          return bad(body, "ids: deposit 0");
        }
        case 4:
          return bad(
              ledger::CompleteRemittance{.remittance_id = 0, .employer = EmployerId{*employer}},
              "ids: remittance 0");
        default: {
          ledger::SettleInterest body{.interest_year = InterestYearOf(today_) - 1,
                                      .accounts = {AccountId{*account}, AccountId{0}}};
          return bad(body, "ids: an account 0 in a settlement");
        }
      }
    }
    case 37: {
      // A coded field outside its codes, a note or an approval too long.
      const auto employer = PickEmployer(any_employer);
      const auto position = PickRecord([](uint64_t, const JournalEntry& entry) {
        return entry.kind == JournalKind::kReceipt && !entry.reversed;
      });
      if (!employer) return std::nullopt;
      switch (Below(6)) {
        case 4: {
          const auto sealed = PickEmployer(sealed_employer);
          if (PerMille(500) || !sealed) {
            return bad(ledger::SealEmployer{.employer = EmployerId{*employer},
                                            .reason = static_cast<ledger::EmployerExitReason>(
                                                PerMille(500) ? 0 : 4),
                                            .approval_reference = "FC-K"},
                       "codes: an employer exit reason that is not one");
          }
          return bad(
              ledger::CloseEmployer{.employer = EmployerId{*sealed},
                                    .reason = ledger::EmployerExitReason::kDissolved,
                                    .approval_reference = std::string(kModelTextBytesMax + 1, 'X')},
              "close employer: an approval too long");
        }
        case 5: {
          const auto account = PickAccount(open_account);
          if (!account) return std::nullopt;
          return bad(ledger::SealAccount{.account = AccountId{*account},
                                         .reason = static_cast<ledger::AccountSealReason>(3)},
                     "codes: a seal reason that is not one");
        }
        case 0: {
          ledger::OpenRemittance body{.remittance_id = next_remittance_++,
                                      .employer = EmployerId{*employer},
                                      .kind = static_cast<RemittanceKind>(PerMille(500) ? 0 : 3),
                                      .from_month = MonthOfDate(today_),
                                      .to_month = MonthOfDate(today_),
                                      .accounts_count = 1,
                                      .total = Fen{100},
                                      .list_reference = "LIST-K" + std::to_string(serial_)};
          return bad(body, "codes: a remittance kind that is not one");
        }
        case 1: {
          if (!position) return std::nullopt;
          ledger::ReverseRecord body = Reversal(*position);
          body.reason = static_cast<ledger::ReversalReason>(PerMille(500) ? 0 : 6);
          return bad(body, "codes: a reversal reason that is not one");
        }
        default: {
          if (!position) return std::nullopt;
          ledger::ReverseRecord body = Reversal(*position);
          if (PerMille(500)) {
            body.note.assign(kModelNoteBytesMax + 1, 'N');
          } else {
            body.approval_reference.assign(kModelTextBytesMax + 1, 'A');
          }
          return bad(body, "reverse: a note or an approval too long");
        }
      }
    }
    case 38: {
      // A policy change: a document that is not a policy, a date in the past or none at all,
      // a summary left out, the shipped figures rewritten from their first day.
      ledger::ChangePolicy body{.document = std::string(kModelPolicyDocument),
                                .effective_from = today_,
                                .summary = "restated",
                                .approval_reference = "QD-P-" + std::to_string(serial_)};
      switch (Below(5)) {
        case 4:
          body.document = ModelRewrittenPolicyDocument();
          return bad(body, "policy: the shipped figures rewritten from 1990");
        case 0:
          body.document.pop_back();  // the closing brace
          return bad(body, "policy: a document that is not JSON");
        case 1:
          body.effective_from = today_ - 1;  // the day before (or the 0th of the month)
          return bad(body, "policy: effective before the command's date");
        case 2:
          body.effective_from = today_ / 100 * 100 + 32;
          return bad(body, "policy: effective from a day that does not exist");
        default:
          body.summary.clear();
          return bad(body, "policy: no summary");
      }
    }
    case 39:
    case 40:
    case 41:
    case 42:
      return InvalidWithdrawal(variant - 39);
    default:
      return std::nullopt;  // other variants: a valid command instead (keeps the share)
  }
}

GeneratedCommand CommandGenerator::RestatePolicy() {
  ledger::ChangePolicy body{.document = std::string(kModelPolicyDocument),
                            .effective_from = today_,
                            .summary = "the policy restated",
                            .approval_reference = "QD-P-" + std::to_string(serial_)};
  return GeneratedCommand{
      .command = Wrap(std::move(body), today_), .label = "policy: restated", .meant_valid = true};
}

// --- feedback ---

void CommandGenerator::Observe(const std::optional<ledger::Rejection>& rejection) {
  const bool accepted = !rejection.has_value();
  // The indices of who exists and who works where.
  if (accepted) {
    std::visit(
        [&](const auto& c) {
          using C = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<C, ledger::SealEmployer>) {
            recently_sealed_.push_back(c.employer.value);
          }
          if constexpr (std::is_same_v<C, ledger::ApplyWithdrawal>) {
            // Reviewed within the centre's three days, mostly.
            withdrawals_.push_back(
                WithdrawalInfo{.id = c.withdrawal_id,
                               .account = c.account.value,
                               .next_day = DaysAfter(today_, static_cast<uint32_t>(Below(3)))});
          } else if constexpr (std::is_same_v<C, ledger::ApproveWithdrawal>) {
            for (WithdrawalInfo& info : withdrawals_) {
              if (info.id == c.withdrawal_id) {
                info.approved_on = today_;
                info.next_day = DaysAfter(
                    today_, static_cast<uint32_t>(Below(4)));  // the bank pays in a few days
              }
            }
          } else if constexpr (std::is_same_v<C, ledger::PayWithdrawal>) {
            DropFromUnopenedPlan(model_.withdrawal(c.withdrawal_id)->account);
          }
          if constexpr (std::is_same_v<C, ledger::RegisterEmployer>) {
            employer_ids_.push_back(c.employer.value);
            EmployerInfo& info = info_[c.employer.value];
            info.first_month = c.first_contribution_month;
            // Most employers are small; a few are large; one in twenty never hires.
            const uint64_t size = Below(100);
            info.accounts_wanted = static_cast<uint32_t>(size < 5    ? 0
                                                         : size < 65 ? 1 + Below(5)
                                                         : size < 95 ? 6 + Below(25)
                                                                     : 31 + Below(90));
            AddToWork(c.employer.value);
          } else if constexpr (std::is_same_v<C, ledger::OpenAccount> ||
                               std::is_same_v<C, ledger::UnsealAccount>) {
            if constexpr (std::is_same_v<C, ledger::OpenAccount>) {
              account_ids_.push_back(c.account.value);
              const ModelAccount* account = model_.account(c.account.value);
              if (today_ >= InterestYearLastDay(account->interest_year)) {
                pending_.push_back(c.account.value);  // opened on (or dated before) 30 June
              }
            }
            std::vector<uint64_t>& accounts = info_[c.employer.value].accounts;
            if (std::find(accounts.begin(), accounts.end(), c.account.value) == accounts.end()) {
              accounts.push_back(c.account.value);
            }
            ++normal_accounts_;
            AddToWork(c.employer.value);
          }
        },
        last_command_.body);
  }
  if (last_step_ == Step::kSettleInFlight) return;  // rejected, as meant: nothing settled
  if (last_step_ == Step::kSettle) {
    if (accepted) {
      // The chunk's accounts, not the ones it skipped (withdrawals in flight).
      const std::set<uint64_t> settled(settling_.begin(), settling_.end());
      pending_.erase(std::remove_if(pending_.begin(), pending_.end(),
                                    [&settled](uint64_t id) { return settled.contains(id); }),
                     pending_.end());
    } else if (!pending_.empty()) {
      pending_.pop_front();  // should not happen; never loop on one account
    }
    return;
  }
  if (last_step_ == Step::kReversal) {
    // The corrected line follows: allocated again next.
    if (accepted && requeue_) {
      Plan& plan = *info_[last_employer_].plan;
      plan.lines.insert(plan.lines.begin() + static_cast<std::ptrdiff_t>(plan.next_line),
                        *requeue_);
    }
    requeue_.reset();
    return;
  }
  if (last_step_ == Step::kOther || last_step_ == Step::kPlanReceipt) return;
  EmployerInfo& info = info_[last_employer_];
  if (!info.plan) return;
  Plan& plan = *info.plan;
  if (accepted) {
    plan.failures = 0;
    if (last_step_ == Step::kPlanOpen) plan.opened = true;
    if (last_step_ == Step::kPlanAllocate) ++plan.next_line;
    if (last_step_ == Step::kPlanComplete) info.plan.reset();
    return;
  }
  // An unsettled interest year clears at the settlement; anything else counts.
  if (rejection == ledger::Rejection::kInterestYearNotSettled) return;
  if (++plan.failures < kPlanFailuresMax) return;
  if (plan.opened) {
    MarkStuck(last_employer_, "list " + std::to_string(plan.remittance_id) + " rejected " +
                                  std::to_string(plan.failures) + " times, last " +
                                  std::to_string(static_cast<int>(*rejection)) + " at line " +
                                  std::to_string(plan.next_line) + " of " +
                                  std::to_string(plan.lines.size()));
  }
  info.plan.reset();
}

}  // namespace hpf::simulation
