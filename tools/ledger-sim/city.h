// tools/ledger-sim/city.h — a seeded synthetic city for the write model (DESIGN §4 ledger-sim).
//
// Employers and their employees' accounts, then an interest year of monthly remittances —
// bank receipt, regular list, one line per normal account, completion — with base changes,
// seals and back-payments sprinkled in (a base raised late, from the month before, and that
// month's difference back-paid), a few retirements paid out with the account closed (销户提取:
// sealed, applied for by one counter operator, approved by another — four eyes — and paid by
// the bank, the interest to date with it), and the 30 June settlement in chunks of the
// accounts still open. Every command is
// valid against the default policy when applied in order to an empty ledger, so the
// generated city doubles as a workload (benchmarks, the demo) and as an end-to-end test.
// Same options, same seed -> the same commands, byte for byte. Who retires is drawn from a
// generator of its own, so a city without retirements is the same as before they existed.
#pragma once

#include <cstdint>
#include <functional>

#include "ledger/commands.h"

namespace hpf::sim {

struct CityOptions {
  uint64_t seed = 1;
  uint32_t employers = 50;
  uint32_t accounts_per_employer = 40;  // each employer gets 1 .. 2 × this, seeded
  uint32_t months = 12;                 // of the interest year, from July; 12 ends with 30 June
  int32_t interest_year = 2022;         // 2022-07-01 .. 2023-06-30
  // Per thousand accounts and month: a base change, a seal, a late base raise back-paid.
  uint32_t base_changes_per_mille = 20;
  uint32_t seals_per_mille = 5;
  uint32_t back_payments_per_mille = 10;
  // Per thousand accounts, in the year: closing withdrawals for retirement (0.2 %), each in a
  // month drawn among `months`, after that month's contributions. 0 leaves them out.
  uint32_t closing_withdrawals_per_mille = 2;
};

struct CityCounts {
  uint64_t commands = 0;
  uint64_t employers = 0;
  uint64_t accounts = 0;
  uint64_t allocations = 0;
  uint64_t withdrawals = 0;  // closing withdrawals paid (accounts closed)
};

// Calls `emit` with every command of the city, in the order they must be applied.
CityCounts GenerateCity(const CityOptions& options,
                        const std::function<void(ledger::Command&&)>& emit);

}  // namespace hpf::sim
