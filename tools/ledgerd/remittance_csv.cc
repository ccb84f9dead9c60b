// tools/ledgerd/remittance_csv.cc
#include "tools/ledgerd/remittance_csv.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include <fmt/core.h>

#include "ledger/limits.h"
#include "tools/ledgerd/limits.h"

namespace hpf::ledgerd {

namespace {

using ledger::Fen;

// The columns, each with its English and Chinese header names (docs/bank-files.md).
enum Column : size_t {
  kEmployer,
  kList,
  kKind,
  kPeriod,
  kAccount,
  kBase,
  kEmployeePart,
  kEmployerPart,
  kBankReference,
  kColumnCount,
};

struct ColumnName {
  std::string_view english;
  std::string_view chinese;
  bool required;
};

constexpr std::array<ColumnName, kColumnCount> kColumns = {{
    {"employer", "单位账号", true},
    {"list", "清册号", true},
    {"kind", "业务类型", false},
    {"period", "缴存年月", true},
    {"account", "个人账号", true},
    {"base", "缴存基数", true},
    {"employee_part", "个人缴存额", true},
    {"employer_part", "单位缴存额", true},
    {"bank_reference", "银行流水号", true},
}};

// A bank reference travels as the list reference (the ledger takes short texts) and inside
// idempotency keys.
constexpr size_t kBankReferenceBytesMax = 64;
// Yuan amounts: at most 10 integer digits (10^10 yuan = ledger::kCommandAmountFenMax fen), so
// a file's total stays far inside int64.
constexpr size_t kYuanIntegerDigitsMax = 10;
static_assert(2 * ledger::kCommandAmountFenMax * static_cast<int64_t>(kCsvLinesMax) < INT64_MAX / 2,
              "a file's total cannot overflow");

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

struct CsvRecord {
  size_t line = 0;
  std::vector<std::string> fields;
  std::optional<InputError> error;  // a malformed line: the fields are unusable
};

// RFC 4180 records: ',' between fields, '"' quotes a field ("" inside is one quote), a line
// ends with LF, CRLF or CR. Blank lines are skipped.
class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}

  // The next non-blank record; false at the end or on a whole-file error (`*file_error`).
  bool Next(CsvRecord* record, std::optional<InputError>* file_error) {
    while (pos_ < text_.size()) {
      record->line = line_;
      record->fields.clear();
      record->error.reset();
      if (!ReadRecord(record, file_error)) return false;
      const bool blank = record->fields.size() == 1 && Trim(record->fields[0]).empty() &&
                         !record->error.has_value();
      if (!blank) return true;
    }
    return false;
  }

 private:
  bool AtLineEnd() const {
    return pos_ == text_.size() || text_[pos_] == '\n' || text_[pos_] == '\r';
  }
  void ConsumeLineEnd() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
  }
  // After a malformed field: skip to the end of the physical line.
  void SkipLine() {
    while (!AtLineEnd()) ++pos_;
    ConsumeLineEnd();
  }
  void AppendBounded(std::string& field, std::string_view part, CsvRecord* record) {
    if (field.size() + part.size() > kCsvFieldBytesMax) {
      if (!record->error.has_value()) {
        record->error = InputError{"csv_field_too_long",
                                   fmt::format("field {} is longer than {} bytes",
                                               record->fields.size() + 1, kCsvFieldBytesMax)};
      }
      return;
    }
    field.append(part);
  }

  bool ReadRecord(CsvRecord* record, std::optional<InputError>* file_error) {
    while (true) {
      std::string field;
      if (pos_ < text_.size() && text_[pos_] == '"') {
        const size_t quote_line = line_;
        ++pos_;
        while (true) {
          const size_t close = text_.find('"', pos_);
          if (close == std::string_view::npos) {
            *file_error = InputError{
                "csv_truncated",
                fmt::format("the quoted field opened on line {} is never closed: the file "
                            "ends inside it (truncated?)",
                            quote_line)};
            return false;
          }
          const std::string_view part = text_.substr(pos_, close - pos_);
          line_ += static_cast<size_t>(std::count(part.begin(), part.end(), '\n'));
          AppendBounded(field, part, record);
          pos_ = close + 1;
          if (pos_ < text_.size() && text_[pos_] == '"') {
            AppendBounded(field, "\"", record);
            ++pos_;
            continue;
          }
          break;
        }
        if (!AtLineEnd() && text_[pos_] != ',') {
          record->error =
              InputError{"csv_quote", fmt::format("field {} has characters after its closing quote",
                                                  record->fields.size() + 1)};
          SkipLine();
          return true;
        }
      } else {
        size_t end = pos_;
        while (end < text_.size() && text_[end] != ',' && text_[end] != '\n' &&
               text_[end] != '\r') {
          ++end;
        }
        const std::string_view part = text_.substr(pos_, end - pos_);
        pos_ = end;
        if (part.find('"') != std::string_view::npos) {
          record->error = InputError{"csv_quote",
                                     fmt::format("field {} has a quote but does not start with one",
                                                 record->fields.size() + 1)};
          SkipLine();
          return true;
        }
        AppendBounded(field, part, record);
      }
      if (record->fields.size() == kCsvColumnsMax) {
        record->error =
            InputError{"csv_too_many_fields", fmt::format("more than {} fields", kCsvColumnsMax)};
        SkipLine();
        return true;
      }
      record->fields.push_back(std::move(field));
      if (AtLineEnd()) {
        ConsumeLineEnd();
        return true;
      }
      ++pos_;  // the ','
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

bool ParseUnsigned(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 20) return false;
  uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out = value;
  return true;
}

// "1234.56", "1234.5", "1234" yuan -> fen. nullopt if not that form.
std::optional<int64_t> ParseYuan(std::string_view text) {
  const size_t dot = text.find('.');
  const std::string_view integer = text.substr(0, dot);
  const std::string_view fraction =
      dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (integer.empty() || integer.size() > kYuanIntegerDigitsMax) return std::nullopt;
  if (dot != std::string_view::npos && (fraction.empty() || fraction.size() > 2)) {
    return std::nullopt;
  }
  int64_t fen = 0;
  for (const char c : integer) {
    if (c < '0' || c > '9') return std::nullopt;
    fen = fen * 10 + (c - '0');
  }
  fen *= 100;
  for (size_t i = 0; i < fraction.size(); ++i) {
    const char c = fraction[i];
    if (c < '0' || c > '9') return std::nullopt;
    fen += (c - '0') * (i == 0 ? 10 : 1);
  }
  return fen;
}

// Reads one line's fields by column; the first problem wins.
class LineReader {
 public:
  LineReader(const std::vector<std::string>& fields, const std::array<size_t, kColumnCount>& at)
      : fields_(fields), at_(at) {}

  const std::optional<InputError>& error() const { return error_; }

  std::string_view Field(Column column) const {
    const size_t index = at_[column];
    return index == SIZE_MAX ? std::string_view() : Trim(fields_[index]);
  }

  void Id(Column column, uint64_t* out) {
    if (error_.has_value()) return;
    const std::string_view text = Field(column);
    if (text.empty()) {
      Fail("csv_missing_value", column, "is empty");
    } else if (!ParseUnsigned(text, out)) {
      Fail("csv_invalid_number", column,
           fmt::format("must be a whole number of up to 20 digits, not \"{}\"", text));
    }
  }

  void Kind(ledger::RemittanceKind* out) {
    if (error_.has_value()) return;
    const std::string text = Lower(Field(kKind));
    if (text.empty() || text == "01" || text == "1" || text == "regular" || text == "汇缴") {
      *out = ledger::RemittanceKind::kRegular;
    } else if (text == "02" || text == "2" || text == "back_payment" || text == "补缴") {
      *out = ledger::RemittanceKind::kBackPayment;
    } else {
      Fail("csv_invalid_kind", kKind,
           fmt::format("must be 01 (汇缴, regular) or 02 (补缴, back-payment), not \"{}\"",
                       Field(kKind)));
    }
  }

  void Period(uint32_t* out) {
    if (error_.has_value()) return;
    std::string text(Field(kPeriod));
    if (text.size() == 7 && text[4] == '-') text.erase(4, 1);
    uint64_t value = 0;
    if (text.size() != 6 || !ParseUnsigned(text, &value) || value % 100 < 1 || value % 100 > 12) {
      Fail("csv_invalid_period", kPeriod,
           fmt::format("must be a month as yyyymm or yyyy-mm, not \"{}\"", Field(kPeriod)));
      return;
    }
    *out = static_cast<uint32_t>(value);
  }

  void Amount(Column column, Fen* out) {
    if (error_.has_value()) return;
    const std::string_view text = Field(column);
    if (text.empty()) {
      Fail("csv_missing_value", column, "is empty");
      return;
    }
    if (text.front() == '-') {
      Fail("amount_must_not_be_negative", column,
           fmt::format("must not be negative, got {}", text));
      return;
    }
    const auto fen = ParseYuan(text);
    if (!fen.has_value()) {
      Fail("csv_invalid_amount", column,
           fmt::format("must be yuan with at most 2 decimals and {} integer digits (e.g. "
                       "1234.56), not \"{}\"",
                       kYuanIntegerDigitsMax, text));
      return;
    }
    out->value = *fen;
  }

  void Reference(std::string* out) {
    if (error_.has_value()) return;
    const std::string_view text = Field(kBankReference);
    if (text.empty()) {
      Fail("csv_missing_value", kBankReference, "is empty");
      return;
    }
    bool printable = true;
    for (const char c : text) printable = printable && static_cast<unsigned char>(c) >= 0x20;
    if (text.size() > kBankReferenceBytesMax || !printable) {
      Fail("csv_invalid_reference", kBankReference,
           fmt::format("must be 1..{} bytes of printable text", kBankReferenceBytesMax));
      return;
    }
    out->assign(text);
  }

  void Fail(std::string_view code, Column column, std::string_view what) {
    error_ =
        InputError{std::string(code), fmt::format("column {} {}", kColumns[column].english, what)};
  }

 private:
  const std::vector<std::string>& fields_;
  const std::array<size_t, kColumnCount>& at_;
  std::optional<InputError> error_;
};

std::variant<std::array<size_t, kColumnCount>, InputError> ReadHeader(const CsvRecord& header) {
  if (header.error.has_value()) {
    return InputError{"csv_header", fmt::format("the header (line {}) is malformed: {}",
                                                header.line, header.error->message)};
  }
  std::array<size_t, kColumnCount> at;
  at.fill(SIZE_MAX);
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = Lower(Trim(header.fields[i]));
    size_t column = kColumnCount;
    for (size_t c = 0; c < kColumnCount; ++c) {
      if (name == kColumns[c].english || name == kColumns[c].chinese) column = c;
    }
    if (column == kColumnCount) {
      return InputError{
          "csv_header",
          fmt::format("unknown column \"{}\" in the header (line {}); the columns are employer, "
                      "list, kind, period, account, base, employee_part, employer_part, "
                      "bank_reference (docs/bank-files.md)",
                      header.fields[i].substr(0, 64), header.line)};
    }
    if (at[column] != SIZE_MAX) {
      return InputError{"csv_header", fmt::format("column \"{}\" appears twice in the header",
                                                  kColumns[column].english)};
    }
    at[column] = i;
  }
  for (size_t c = 0; c < kColumnCount; ++c) {
    if (kColumns[c].required && at[c] == SIZE_MAX) {
      return InputError{"csv_header", fmt::format("the header (line {}) lacks column \"{}\"",
                                                  header.line, kColumns[c].english)};
    }
  }
  return at;
}

}  // namespace

std::variant<RemittanceFile, InputError> ParseRemittanceCsv(std::string_view utf8) {
  if (utf8.substr(0, 3) == "\xEF\xBB\xBF") utf8.remove_prefix(3);  // a BOM
  CsvReader reader(utf8);
  std::optional<InputError> file_error;
  CsvRecord record;
  if (!reader.Next(&record, &file_error)) {
    if (file_error.has_value()) return *file_error;
    return InputError{"csv_empty", "the file is empty: expected a header row and lines"};
  }
  auto header = ReadHeader(record);
  if (auto* error = std::get_if<InputError>(&header)) return std::move(*error);
  const auto at = std::get<std::array<size_t, kColumnCount>>(header);
  const size_t columns = record.fields.size();

  RemittanceFile file;
  // (employer, list) -> the index of the list's first line, for the checks across lines.
  std::map<std::pair<uint64_t, uint64_t>, size_t> first_of_list;
  // (employer, list, account, month) -> its line number: one line each.
  std::map<std::tuple<uint64_t, uint64_t, uint64_t, uint32_t>, size_t> line_of;
  file.lines.reserve(std::min<size_t>(utf8.size() / 40 + 1, kCsvLinesMax));
  while (reader.Next(&record, &file_error)) {
    if (++file.detail_lines > kCsvLinesMax) {
      return InputError{"csv_too_many_lines",
                        fmt::format("more than {} lines; split the file", kCsvLinesMax)};
    }
    const auto fail = [&](InputError error) {
      file.errors.push_back(LineError{record.line, std::move(error)});
    };
    if (record.error.has_value()) {
      fail(*record.error);
      continue;
    }
    if (record.fields.size() != columns) {
      fail(InputError{
          "csv_field_count",
          fmt::format("{} fields where the header has {}{}", record.fields.size(), columns,
                      record.fields.size() < columns ? " (a truncated line?)" : "")});
      continue;
    }
    RemittanceLine line;
    line.line = record.line;
    LineReader read(record.fields, at);
    read.Id(kEmployer, &line.employer.value);
    read.Id(kList, &line.list);
    read.Kind(&line.kind);
    read.Period(&line.month);
    read.Id(kAccount, &line.account.value);
    read.Amount(kBase, &line.base);
    read.Amount(kEmployeePart, &line.employee_part);
    read.Amount(kEmployerPart, &line.employer_part);
    read.Reference(&line.bank_reference);
    if (read.error().has_value()) {
      fail(*read.error());
      continue;
    }
    if (line.base.value == 0) {
      fail(InputError{"amount_must_be_positive", "column base must be > 0"});
      continue;
    }
    if (line.employee_part.value + line.employer_part.value == 0) {
      fail(InputError{"amount_must_be_positive",
                      "columns employee_part and employer_part are both zero"});
      continue;
    }
    const auto key =
        std::make_tuple(line.employer.value, line.list, line.account.value, line.month);
    if (const auto it = line_of.find(key); it != line_of.end()) {
      fail(InputError{"csv_duplicate_line",
                      fmt::format("account {} month {} is already on line {} of list {}",
                                  line.account.value, line.month, it->second, line.list)});
      continue;
    }
    const auto list_key = std::make_pair(line.employer.value, line.list);
    if (const auto it = first_of_list.find(list_key); it != first_of_list.end()) {
      const RemittanceLine& first = file.lines[it->second];
      if (first.bank_reference != line.bank_reference || first.kind != line.kind) {
        fail(InputError{"csv_inconsistent_list",
                        fmt::format("list {} of employer {} has bank reference \"{}\" and kind "
                                    "{:02} on line {}; every line of a list must say the same",
                                    line.list, line.employer.value, first.bank_reference,
                                    static_cast<int>(first.kind), first.line)});
        continue;
      }
    }
    line_of.emplace(key, line.line);
    first_of_list.emplace(list_key, file.lines.size());
    file.lines.push_back(std::move(line));
  }
  if (file_error.has_value()) return *file_error;
  return file;
}

RemittancePlan PlanRemittance(const RemittanceFile& file, uint32_t effective_date) {
  RemittancePlan plan;
  // Lists in the order of their first line.
  std::map<std::pair<uint64_t, uint64_t>, size_t> list_index;
  std::vector<std::vector<const RemittanceLine*>> members;
  for (const RemittanceLine& line : file.lines) {
    const auto key = std::make_pair(line.employer.value, line.list);
    auto [it, added] = list_index.emplace(key, members.size());
    if (added) members.emplace_back();
    members[it->second].push_back(&line);
  }
  std::vector<size_t> command_of_line(file.lines.size());
  const auto header = [&](std::string key) {
    return ledger::CommandHeader{.idempotency_key = std::move(key),
                                 .actor = {},
                                 .channel = {},
                                 .effective_date = effective_date};
  };
  for (const auto& lines : members) {
    const RemittanceLine& first = *lines.front();
    const std::string prefix = fmt::format("rf:{}:{}", first.employer.value, first.list);
    ledger::OpenRemittance open{.remittance_id = first.list,
                                .employer = first.employer,
                                .kind = first.kind,
                                .from_month = first.month,
                                .to_month = first.month,
                                .accounts_count = 0,
                                .total = Fen{0},
                                .list_reference = first.bank_reference};
    std::set<uint64_t> accounts;
    for (const RemittanceLine* line : lines) {
      open.from_month = std::min(open.from_month, line->month);
      open.to_month = std::max(open.to_month, line->month);
      open.total.value += line->employee_part.value + line->employer_part.value;
      accounts.insert(line->account.value);
    }
    open.accounts_count = static_cast<uint32_t>(accounts.size());
    RemittancePlan::List list{.employer = first.employer,
                              .list = first.list,
                              .open_command = plan.commands.size(),
                              .complete_command = 0,
                              .lines = lines.size(),
                              .total = open.total};
    plan.commands.push_back(ledger::Command{header(prefix + ":open"), std::move(open)});
    for (const RemittanceLine* line : lines) {
      command_of_line[static_cast<size_t>(line - file.lines.data())] = plan.commands.size();
      plan.commands.push_back(
          ledger::Command{header(fmt::format("{}:{}:{}", prefix, line->account.value, line->month)),
                          ledger::AllocateContribution{.remittance_id = line->list,
                                                       .employer = line->employer,
                                                       .account = line->account,
                                                       .month = line->month,
                                                       .contribution_base = line->base,
                                                       .employer_amount = line->employer_part,
                                                       .employee_amount = line->employee_part}});
    }
    list.complete_command = plan.commands.size();
    plan.commands.push_back(ledger::Command{
        header(prefix + ":complete"),
        ledger::CompleteRemittance{.remittance_id = first.list, .employer = first.employer}});
    plan.lists.push_back(list);
  }
  for (size_t i = 0; i < file.lines.size(); ++i) {
    plan.lines.push_back(
        RemittancePlan::Line{.line = file.lines[i].line, .command = command_of_line[i]});
  }
  return plan;
}

}  // namespace hpf::ledgerd
