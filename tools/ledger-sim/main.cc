// tools/ledger-sim/main.cc — `ledger-sim [--seed N] [--employers N] [--accounts-per-employer N]
// [--months N] [--interest-year YYYY] [--closing-withdrawals-per-mille N]`: writes the
// commands of a seeded synthetic city to standard output as JSON lines (one command per line,
// in order), and a count to stderr.
// Same flags and seed, same output. `--check` decides every command against an empty ledger
// instead (pure, in memory) and fails on the first rejection: the generator's own test.
#include <charconv>
#include <cstdio>
#include <string_view>

#include <fmt/core.h>

#include "ledger/decide.h"
#include "tools/ledger-sim/city.h"
#include "tools/ledger-sim/command_json.h"

namespace {

bool ParseNumber(std::string_view text, uint64_t max, uint64_t* out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && *out <= max;
}

int Usage() {
  fmt::print(stderr,
             "usage: ledger-sim [--seed N] [--employers 1..100000] [--accounts-per-employer "
             "1..10000] [--months 1..12] [--interest-year 1991..2197] "
             "[--closing-withdrawals-per-mille 0..1000 (default 2)] [--check]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  hpf::sim::CityOptions options;
  bool check = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--check") {
      check = true;
      continue;
    }
    uint64_t value = 0;
    if (i + 1 >= argc) return Usage();
    const std::string_view text = argv[++i];
    if (flag == "--seed" && ParseNumber(text, UINT64_MAX, &value)) {
      options.seed = value;
    } else if (flag == "--employers" && ParseNumber(text, 100'000, &value) && value > 0) {
      options.employers = static_cast<uint32_t>(value);
    } else if (flag == "--accounts-per-employer" && ParseNumber(text, 10'000, &value) &&
               value > 0) {
      options.accounts_per_employer = static_cast<uint32_t>(value);
    } else if (flag == "--months" && ParseNumber(text, 12, &value) && value > 0) {
      options.months = static_cast<uint32_t>(value);
    } else if (flag == "--interest-year" && ParseNumber(text, 2197, &value) && value >= 1991) {
      options.interest_year = static_cast<int32_t>(value);
    } else if (flag == "--closing-withdrawals-per-mille" && ParseNumber(text, 1000, &value)) {
      options.closing_withdrawals_per_mille = static_cast<uint32_t>(value);
    } else {
      return Usage();
    }
  }
  hpf::ledger::State state;
  const hpf::ledger::PolicyBook policy = hpf::ledger::DefaultPolicy();
  uint64_t rejected = 0;
  const auto counts = hpf::sim::GenerateCity(options, [&](hpf::ledger::Command&& command) {
    if (!check) {
      fmt::print("{}\n", hpf::sim::CommandToJson(command));
      return;
    }
    if (rejected > 0) return;
    const auto decision = hpf::ledger::Decide(state, command, policy);
    if (!decision.accepted()) {
      ++rejected;
      fmt::print(stderr, "rejected {}: {} {}\n", hpf::sim::CommandToJson(command),
                 hpf::ledger::RejectionCode(decision.rejection->rejection),
                 decision.rejection->message);
      return;
    }
    const auto date = hpf::ledger::Date::FromYyyymmdd(command.header.effective_date).value();
    for (const auto& fact : decision.facts) hpf::ledger::Evolve(state, fact, date, policy);
  });
  fmt::print(stderr,
             "ledger-sim: {} commands ({} employers, {} accounts, {} allocations, {} closing "
             "withdrawals)\n",
             counts.commands, counts.employers, counts.accounts, counts.allocations,
             counts.withdrawals);
  return rejected == 0 ? 0 : 1;
}
