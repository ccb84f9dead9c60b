// tools/ledger-sim/city.h — a seeded synthetic city for the write model (DESIGN §4 ledger-sim).
//
// Employers and their employees' accounts, then an interest year of monthly remittances —
// bank receipt, regular list, one line per normal account, completion — with base changes,
// seals and back-payments sprinkled in (a base raised late, from the month before, and that
// month's difference back-paid), and the 30 June settlement in chunks. Every command is
// valid against the default policy when applied in order to an empty ledger, so the
// generated city doubles as a workload (benchmarks, the demo) and as an end-to-end test.
// Same options, same seed -> the same commands, byte for byte.
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
};

struct CityCounts {
  uint64_t commands = 0;
  uint64_t employers = 0;
  uint64_t accounts = 0;
  uint64_t allocations = 0;
};

// Calls `emit` with every command of the city, in the order they must be applied.
CityCounts GenerateCity(const CityOptions& options,
                        const std::function<void(ledger::Command&&)>& emit);

}  // namespace hpf::sim
