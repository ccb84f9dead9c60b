// tests/fuzz/remittance_csv_fuzz.cc — libFuzzer target for a bank's remittance file: charset
// conversion (glibc iconv, GB18030), the CSV reader and the mapping onto commands.
//
// Input: the first byte chooses the charset (even: UTF-8, odd: GB18030), the rest is the file.
// Beyond "no crash": converted text is UTF-8; every detail line is either well-formed or has
// an error, in file order; well-formed lines hold what the format allows; the plan has an
// open, the lines and a complete per list, each line's command being its allocation, and every
// idempotency key fits the log's limit.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "events/assert.h"
#include "events/limits.h"
#include "tests/fuzz/fuzz_input.h"
#include "tools/ledgerd/charset.h"
#include "tools/ledgerd/limits.h"
#include "tools/ledgerd/remittance_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hpf;  // NOLINT: a fuzz target's one function
  if (size == 0) return 0;
  const ledgerd::Charset charset =
      data[0] % 2 == 0 ? ledgerd::Charset::kUtf8 : ledgerd::Charset::kGb18030;
  const fuzz::AlignedCopy input(data + 1, size - 1);
  auto text = ledgerd::ToUtf8(input.view(), charset);
  if (const auto* error = std::get_if<ledgerd::InputError>(&text)) {
    HPF_ASSERT(error->code == "invalid_encoding" || error->code == "unsupported_charset");
    return 0;
  }
  const std::string& utf8 = std::get<std::string>(text);
  HPF_ASSERT(!ledgerd::FirstInvalidUtf8(utf8).has_value());
  auto parsed = ledgerd::ParseRemittanceCsv(utf8);
  if (const auto* error = std::get_if<ledgerd::InputError>(&parsed)) {
    HPF_ASSERT(error->code.rfind("csv_", 0) == 0);
    return 0;
  }
  const ledgerd::RemittanceFile& file = std::get<ledgerd::RemittanceFile>(parsed);
  HPF_ASSERT(file.lines.size() + file.errors.size() == file.detail_lines);
  HPF_ASSERT(file.detail_lines <= ledgerd::kCsvLinesMax);
  size_t previous = 1;  // the header's line at least
  for (const ledgerd::RemittanceLine& line : file.lines) {
    HPF_ASSERT(line.line > previous);
    previous = line.line;
    HPF_ASSERT(line.month % 100 >= 1 && line.month % 100 <= 12);
    HPF_ASSERT(line.base.value > 0);
    HPF_ASSERT(line.employee_part.value >= 0);
    HPF_ASSERT(line.employer_part.value >= 0);
    HPF_ASSERT(line.employee_part.value + line.employer_part.value > 0);
    HPF_ASSERT(!line.bank_reference.empty());
  }
  for (const ledgerd::LineError& error : file.errors) {
    HPF_ASSERT(error.line >= 1);
    HPF_ASSERT(!error.error.code.empty());
  }
  const ledgerd::RemittancePlan plan = ledgerd::PlanRemittance(file, 20230715);
  HPF_ASSERT(plan.commands.size() == file.lines.size() + 2 * plan.lists.size());
  HPF_ASSERT(plan.lines.size() == file.lines.size());
  for (size_t i = 0; i < plan.lines.size(); ++i) {
    HPF_ASSERT(plan.lines[i].line == file.lines[i].line);
    const auto& allocation =
        std::get<ledger::AllocateContribution>(plan.commands[plan.lines[i].command].body);
    HPF_ASSERT(allocation.account == file.lines[i].account);
    HPF_ASSERT(allocation.month == file.lines[i].month);
  }
  for (const auto& list : plan.lists) {
    HPF_ASSERT(
        std::holds_alternative<ledger::OpenRemittance>(plan.commands[list.open_command].body));
    HPF_ASSERT(std::holds_alternative<ledger::CompleteRemittance>(
        plan.commands[list.complete_command].body));
    HPF_ASSERT(list.complete_command == list.open_command + list.lines + 1);
  }
  for (const ledger::Command& command : plan.commands) {
    HPF_ASSERT(command.header.idempotency_key.size() <= events::kIdempotencyKeyBytesMax);
  }
  return 0;
}
