// tools/ledgerd/remittance_csv.h — the remittance detail list (汇缴清册) a bank forwards, as
// CSV (format: docs/bank-files.md), and its mapping onto the ledger's commands.
//
// A file is a header row naming the columns, then one line per account and month. Lines with
// the same employer and list id form one remittance list, which becomes, in file order:
//   OpenRemittance  (period = the lines' first..last month, accounts = distinct accounts,
//                    total = Σ both parts, list reference = the bank reference)
//   AllocateContribution per line
//   CompleteRemittance
// each with an idempotency key derived from (employer, list, account, month), so posting the
// same file again changes nothing and answers "duplicate" line by line.
//
// Two kinds of error. A whole-file error (not CSV we can read: no header, an unknown or
// missing column, a quote left open at the end — a truncated file — or too many lines) refuses
// the file. A line error (a field that is not a number, an amount with three decimals, a line
// with too few fields, the same account and month twice in a list, ...) is reported for that
// line; the caller decides whether the rest goes on (accept-valid) or nothing does.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/commands.h"
#include "tools/ledgerd/http_types.h"

namespace hpf::ledgerd {

// One well-formed detail line.
struct RemittanceLine {
  size_t line = 0;  // 1-based line number in the file (the header is line 1 if first)
  ledger::EmployerId employer;
  uint64_t list = 0;  // the remittance list id (清册号), growing per employer
  ledger::RemittanceKind kind = ledger::RemittanceKind::kRegular;
  uint32_t month = 0;  // yyyymm
  ledger::AccountId account;
  ledger::Fen base;
  ledger::Fen employee_part;
  ledger::Fen employer_part;
  std::string bank_reference;
};

struct LineError {
  size_t line = 0;
  InputError error;
};

struct RemittanceFile {
  std::vector<RemittanceLine> lines;  // well-formed, in file order
  std::vector<LineError> errors;      // the other detail lines, in file order
  size_t detail_lines = 0;            // lines.size() + errors.size()
};

// Parses UTF-8 text (convert GBK first: charset.h). A whole-file InputError (codes:
// csv_empty, csv_header, csv_truncated, csv_too_many_lines, csv_field_too_long) or the
// file's lines.
std::variant<RemittanceFile, InputError> ParseRemittanceCsv(std::string_view utf8);

// The commands of the well-formed lines, and where each line's and list's answer will be.
struct RemittancePlan {
  struct List {
    ledger::EmployerId employer;
    uint64_t list = 0;
    size_t open_command = 0;      // index into `commands`
    size_t complete_command = 0;  // index into `commands`
    size_t lines = 0;
    ledger::Fen total;
  };
  struct Line {
    size_t line = 0;
    size_t command = 0;  // index into `commands`
  };
  std::vector<ledger::Command> commands;
  std::vector<List> lists;
  std::vector<Line> lines;  // in file order
};

// REQUIRES: `file` came from ParseRemittanceCsv. The commands carry their keys and
// `effective_date`; actor and channel are left to the caller (auth.h AuthorizeCommand).
RemittancePlan PlanRemittance(const RemittanceFile& file, uint32_t effective_date);

}  // namespace hpf::ledgerd
