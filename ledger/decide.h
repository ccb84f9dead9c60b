// ledger/decide.h — the pure decision: (state, command, policy) -> facts | one rejection.
//
// No I/O, no clock, no randomness: the same inputs always give the same decision, which is
// what makes replay deterministic (DESIGN principle 8). Rules are checked in a fixed order:
// the command's own fields first, then the entities it names, then the entities' states, then
// the policy's figures; the first broken rule is the answer.
#pragma once

#include <optional>
#include <vector>

#include "ledger/commands.h"
#include "ledger/facts.h"
#include "ledger/policy.h"
#include "ledger/rejection.h"
#include "ledger/state.h"

namespace hpf::ledger {

struct Decision {
  std::vector<Fact> facts;  // empty iff rejected
  std::optional<RejectionDetail> rejection;
  bool accepted() const { return !rejection.has_value(); }
};

Decision Decide(const State& state, const Command& command, const PolicyBook& policy);

}  // namespace hpf::ledger
