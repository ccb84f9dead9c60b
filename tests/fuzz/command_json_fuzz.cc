// tests/fuzz/command_json_fuzz.cc — libFuzzer target for ledgerd's command decoder: the body
// of POST /v1/commands, bytes from any client on the network.
//
// Beyond "no crash, no sanitizer report": an error has a code and a message; a decoded
// batch is 1 .. kCommandsPerRequestMax commands, each with a known type; and each command,
// written back as JSON (ledger-sim's CommandToJson, the documented form) and decoded again,
// is the same command (equal canonical bytes, the content the ledger hashes for idempotency).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "events/assert.h"
#include "ledger/internal/command_hash.h"
#include "tests/fuzz/fuzz_input.h"
#include "tools/ledger-sim/command_json.h"
#include "tools/ledgerd/charset.h"
#include "tools/ledgerd/command_decoder.h"
#include "tools/ledgerd/limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpf;  // NOLINT: a fuzz target's one function
  const fuzz::AlignedCopy input(data, size);
  auto decoded = ledgerd::DecodeCommands(input.view());
  if (const auto* error = std::get_if<ledgerd::InputError>(&decoded)) {
    HPF_ASSERT(!error->code.empty());
    HPF_ASSERT(!error->message.empty());
    HPF_ASSERT(!ledgerd::FirstInvalidUtf8(error->message).has_value());
    return 0;
  }
  const auto& commands = std::get<std::vector<ledger::Command>>(decoded);
  HPF_ASSERT(!commands.empty());
  HPF_ASSERT(commands.size() <= ledgerd::kCommandsPerRequestMax);
  for (const ledger::Command& command : commands) {
    HPF_ASSERT(!ledgerd::CommandTypeName(command.body).empty());
    HPF_ASSERT(command.header.actor.empty());  // only the token decides the actor
    const std::string json = sim::CommandToJson(command);
    auto again = ledgerd::DecodeCommand(json);
    HPF_ASSERT(std::holds_alternative<ledger::Command>(again));
    const ledger::Command& round = std::get<ledger::Command>(again);
    HPF_ASSERT(round.body.index() == command.body.index());
    HPF_ASSERT(ledger::internal::CanonicalCommandBytes(round) ==
               ledger::internal::CanonicalCommandBytes(command));
    HPF_ASSERT(round.header.idempotency_key == command.header.idempotency_key);
    HPF_ASSERT(round.header.effective_date == command.header.effective_date);
  }
  return 0;
}
