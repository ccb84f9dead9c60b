// tools/ledger-sim/command_json.h — a command as one JSON object, the form ledgerd's
// POST /v1/commands takes (DESIGN §4): {"type": "...", "idempotency_key": ..., fields...}.
// Amounts in fen, rates in ppm, dates yyyymmdd, months yyyymm, as in the schemas; reasons and
// kinds of the data standard as their numeric codes; an identity digest as 64 lower-case hex
// digits (left out when the command has none); a policy document as a string holding its JSON
// text (docs/policy.md).
#pragma once

#include <string>

#include "ledger/commands.h"

namespace hpf::sim {

std::string CommandToJson(const ledger::Command& command);

}  // namespace hpf::sim
