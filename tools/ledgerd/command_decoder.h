// tools/ledgerd/command_decoder.h — JSON → ledger::Command, strictly (docs/commands.md).
//
// The inverse of tools/ledger-sim/command_json.h (CommandToJson): the same field names, amounts
// in fen, rates in ppm, dates yyyymmdd, months yyyymm, plus an optional "channel" (the
// principal decides the actor; see auth.h). Nothing is guessed: a body is refused whole, with
// the command's index and the field in the message, for
//   the strict JSON errors of strict_json.h (invalid_utf8, malformed_json, duplicate_key,
//     number_overflow, json_too_deep);
//   not_an_array, empty_batch, too_many_commands, not_an_object;
//   missing_type, unknown_command_type, unknown_field (also "actor": the token decides it),
//   missing_field, wrong_type (a string for a number, 1.0 for an integer, ...);
//   value_out_of_range (a negative id, a rate beyond uint32, a reason code beyond a byte);
//   invalid_value (an unknown remittance kind, an identity digest that is not 64 hex digits);
//   amount_must_be_positive where the ledger never accepts zero or less (receipts, list
//     totals, contribution bases), amount_must_not_be_negative for a line's two sides.
// Optional fields take the command's defaults (docs/commands.md). Everything else (dates
// that are not calendar dates, ids of 0, reason codes, rates outside the policy, text
// lengths, unknown employers) is the ledger's to decide and answered per command with its
// rejection code.
// Thread safety: pure functions.
#pragma once

#include <string_view>
#include <variant>
#include <vector>

#include "ledger/commands.h"
#include "tools/ledgerd/http_types.h"

namespace hpf::ledgerd {

// The body of POST /v1/commands: a JSON array of 1 .. kCommandsPerRequestMax commands.
std::variant<std::vector<ledger::Command>, InputError> DecodeCommands(std::string_view body);

// One command object as JSON text (ledger-sim's lines, tests).
std::variant<ledger::Command, InputError> DecodeCommand(std::string_view json);

// The "type" of a command, e.g. "RecordBankReceipt".
std::string_view CommandTypeName(const ledger::CommandBody& body);

}  // namespace hpf::ledgerd
