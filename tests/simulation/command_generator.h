// tests/simulation/command_generator.h — seeded random commands for the simulation: a city's
// employers and their employees over the years, mostly doing what centres see every day
// (registrations, new hires, bank receipts, monthly remittance lists allocated line by line,
// back-payments, base and rate changes, people leaving and coming back, court freezes, the
// 30 June interest settlement, closing withdrawals applied for, reviewed by another operator
// and paid — some late in June, so that they keep the settlement away and are paid after it
// with interest over two years), with a deliberate share of commands that break one rule.
//
// The generator reads the reference model to choose plausible commands; it never decides
// anything (the model and the ledger do). Everything random comes from one std::mt19937_64,
// drawn with plain modulo arithmetic, so a seed replays the same stream on any library.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ledger/commands.h"
#include "ledger/rejection.h"
#include "tests/simulation/reference_model.h"

namespace hpf::simulation {

struct GeneratedCommand {
  ledger::Command command;
  const char* label = "";   // what the generator meant, e.g. "allocate: employer side off"
  bool meant_valid = true;  // false for the deliberate rule breakers
};

class CommandGenerator {
 public:
  // `commands_planned` sizes the city: the longer the run, the more employers it registers,
  // so that time (and the calendar) advances at a realistic pace.
  CommandGenerator(uint64_t seed, uint64_t commands_planned, const ReferenceModel& model);

  // The next command. REQUIRES: Observe() was called for the previous one.
  GeneratedCommand Next();

  // How the ledger answered the last command (the model has already applied it).
  void Observe(const std::optional<ledger::Rejection>& rejection);

  uint32_t today() const { return today_; }
  // Employers whose unfinished remittance list can no longer be completed (no command
  // cancels a list): they never remit again. Expected to stay 0.
  size_t stuck_employers() const;
  // Reversals of an account's latest regular month after its list was completed: the month is
  // unpaid again, for a back-payment, and the account stays in step with its employer.
  uint64_t latest_month_reversals() const { return latest_month_reversals_; }
  // Why the first few stuck employers got stuck.
  const std::vector<std::string>& stuck_notes() const { return stuck_notes_; }

 private:
  struct Line {
    uint64_t account = 0;
    uint32_t month = 0;
    int64_t base_fen = 0;
  };
  // A remittance list the generator is working through: receipts, open, lines, complete.
  struct Plan {
    ledger::RemittanceKind kind = ledger::RemittanceKind::kRegular;
    uint64_t remittance_id = 0;
    uint32_t from_month = 0;
    uint32_t to_month = 0;
    std::vector<Line> lines;
    size_t next_line = 0;
    int64_t total_fen = 0;
    bool opened = false;
    uint32_t failures = 0;
  };
  // A closing withdrawal in flight, as the generator follows it (the model holds its status).
  struct WithdrawalInfo {
    uint64_t id = 0;
    uint64_t account = 0;
    uint32_t next_day = 0;     // its next step comes no earlier
    uint32_t approved_on = 0;  // 0 until approved
  };
  struct EmployerInfo {
    uint32_t first_month = 0;
    uint32_t accounts_wanted = 0;
    std::vector<uint64_t> accounts;  // ever attached; the model says which still are
    std::optional<Plan> plan;
    bool in_work = false;
    bool stuck = false;
  };
  enum class Step : uint8_t {
    kOther,
    kPlanReceipt,
    kPlanOpen,
    kPlanAllocate,
    kPlanComplete,
    kSettle,
    kSettleInFlight,  // a chunk naming an account with a withdrawal in flight, on purpose
    kReversal,
  };

  uint64_t Below(uint64_t n);  // uniform-ish in [0, n); REQUIRES n > 0
  bool PerMille(uint64_t p) { return Below(1000) < p; }
  uint32_t EffectiveDate();
  ledger::Command Wrap(ledger::CommandBody body, uint32_t date);
  // `body` dated today, for asking the model whether it would be rejected.
  ledger::Command Probe(const ledger::CommandBody& body) const;
  GeneratedCommand Make(ledger::CommandBody body, const char* label, bool valid = true);

  void AdvanceDay();
  void AdvanceToNextMonth();
  void RebuildWork();
  void RebuildPending();
  void AddToWork(uint64_t employer);

  GeneratedCommand Valid();
  std::optional<GeneratedCommand> Invalid(uint64_t variant);
  std::optional<GeneratedCommand> Flow();
  std::optional<GeneratedCommand> FlowStep(uint64_t employer);
  std::optional<GeneratedCommand> Settlement();
  bool StartRegular(uint64_t employer);
  std::optional<GeneratedCommand> StartBackPayment();
  std::optional<GeneratedCommand> StartBackPaymentFor(uint64_t employer);
  GeneratedCommand RegisterNewEmployer();
  std::optional<GeneratedCommand> HireEmployee();
  std::optional<GeneratedCommand> ChangeBase();
  std::optional<GeneratedCommand> ChangeRates();
  std::optional<GeneratedCommand> SealSomeAccount();
  std::optional<GeneratedCommand> UnsealSomeAccount();
  std::optional<GeneratedCommand> FreezeOrUnfreeze(bool freeze);
  std::optional<GeneratedCommand> CloseSomeAccount();
  std::optional<GeneratedCommand> SealSomeEmployer();
  std::optional<GeneratedCommand> ExtraReceipt();
  std::optional<GeneratedCommand> GrantReduction();
  std::optional<GeneratedCommand> GrantDeferralAhead();
  std::optional<GeneratedCommand> CloseSomeEmployer();
  std::optional<GeneratedCommand> ReopenSomeEmployer();
  std::optional<GeneratedCommand> ReverseSomething();
  // Closing withdrawals: an application (now and then for an account whose year has ended,
  // late in June), the next step of one in flight (review by another operator or, on
  // purpose, by its applicant; the bank's payment, also on a frozen account or back-dated
  // before money; cancellation), and the rules broken on purpose.
  std::optional<GeneratedCommand> ApplyForWithdrawal();
  std::optional<GeneratedCommand> AdvanceWithdrawal();
  std::optional<GeneratedCommand> InvalidWithdrawal(uint64_t variant);
  ledger::PayWithdrawal Payment(uint64_t withdrawal, uint64_t account);
  // An operator other than `actor`.
  std::string OtherOperator(const std::string& actor);
  // The account still has a line to come in its employer's plan (if the plan is opened) —
  // a payment, closing it, would leave the list short.
  bool LinesLeftFor(uint64_t account) const;
  // The account closed by a payment leaves its employer's plan not yet opened.
  void DropFromUnopenedPlan(uint64_t account);
  // The centre restates its policy (the default, in canonical form), effective today or a
  // little later: a PolicyChanged that changes no figure.
  GeneratedCommand RestatePolicy();
  // A position of the window whose record satisfies `ok` (a few probes).
  template <typename Ok>
  std::optional<uint64_t> PickRecord(Ok ok);
  ledger::ReverseRecord Reversal(uint64_t position);

  // Random picks among known ids satisfying `ok` (a few probes; nullopt if none found).
  template <typename Ok>
  std::optional<uint64_t> PickEmployer(Ok ok);
  template <typename Ok>
  std::optional<uint64_t> PickAccount(Ok ok);
  // An employer whose plan is opened (and, if `with_line`, has a line left).
  std::optional<uint64_t> PickOpenPlan(bool with_line);
  // An employer with an unfinished list and no normal account, if any.
  std::optional<uint64_t> EmptyButForAList() const;
  bool Quiet(uint64_t employer) const;  // no plan, no list: safe to change its people
  uint32_t RandomRate();
  int64_t RandomBase();
  ledger::EmployerExitReason ExitReason();
  std::string Approval(const char* prefix);  // empty now and then
  ledger::AllocateContribution LineCommand(uint64_t employer, const Plan& plan,
                                           const Line& line) const;
  uint64_t UnknownId() { return 900'000'000 + Below(1'000'000); }
  void MarkStuck(uint64_t employer, const std::string& why);

  std::mt19937_64 rng_;
  const ReferenceModel& model_;
  uint64_t employers_max_ = 0;
  uint32_t today_ = 0;
  std::deque<uint32_t> recent_days_;  // for back-dated commands
  uint64_t serial_ = 0;               // keys, references
  uint64_t next_employer_ = 1;
  uint64_t next_account_ = 100'001;
  uint64_t next_remittance_ = 1;
  uint64_t normal_accounts_ = 0;  // recounted from the model now and then
  uint64_t latest_month_reversals_ = 0;
  std::vector<std::string> stuck_notes_;
  std::vector<uint64_t> employer_ids_;
  std::vector<uint64_t> account_ids_;
  std::vector<uint64_t> recently_sealed_;  // employers that may back-pay their arrears
  std::map<uint64_t, EmployerInfo> info_;
  std::vector<uint64_t> work_;                 // employers that may have a flow step this month
  std::deque<uint64_t> pending_;               // accounts whose interest year has ended
  std::vector<uint64_t> settling_;             // the accounts of the last settlement chunk
  std::optional<Line> requeue_;                // a reversed line of an open list, to allocate again
  std::vector<WithdrawalInfo> withdrawals_;    // in flight
  std::deque<uint64_t> finished_withdrawals_;  // the latest few paid, rejected or cancelled
  uint64_t next_withdrawal_ = 1;
  Step last_step_ = Step::kOther;
  uint64_t last_employer_ = 0;
  ledger::Command last_command_;
};

}  // namespace hpf::simulation
