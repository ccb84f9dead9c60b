// tests/ledgerd/remittance_csv_test.cc — the remittance file: charsets, CSV framing, the line
// and file errors, and the mapping of lists onto the ledger's commands.
#include "tools/ledgerd/remittance_csv.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tools/ledgerd/charset.h"
#include "tools/ledgerd/limits.h"

namespace hpf::ledgerd {
namespace {

constexpr std::string_view kHeader =
    "employer,list,kind,period,account,base,employee_part,employer_part,bank_reference\n";

std::string ReadSample(std::string_view name) {
  const char* root = std::getenv("HPF_SOURCE_DIR");
  REQUIRE(root != nullptr);
  std::ifstream file(fmt::format("{}/docs/samples/{}", root, name), std::ios::binary);
  REQUIRE(file.good());
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

RemittanceFile Parse(std::string_view text) {
  auto parsed = ParseRemittanceCsv(text);
  const auto* error = std::get_if<InputError>(&parsed);
  REQUIRE_MESSAGE(error == nullptr, (error == nullptr ? "" : error->message));
  return std::get<RemittanceFile>(std::move(parsed));
}

InputError FileError(std::string_view text) {
  auto parsed = ParseRemittanceCsv(text);
  const auto* error = std::get_if<InputError>(&parsed);
  REQUIRE(error != nullptr);
  return *error;
}

// The one line error of a file with a valid header and the given detail line.
InputError LineErrorOf(std::string_view line) {
  const RemittanceFile file = Parse(std::string(kHeader) + std::string(line) + "\n");
  REQUIRE(file.errors.size() == 1);
  CHECK(file.lines.empty());
  CHECK(file.errors[0].line == 2);
  return file.errors[0].error;
}

TEST_SUITE("ledgerd") {
  TEST_CASE("FirstInvalidUtf8: RFC 3629 only") {
    CHECK_FALSE(FirstInvalidUtf8("ascii, 中文, 𝄞").has_value());
    CHECK(FirstInvalidUtf8("ab\xC0\x80") == 2u);         // overlong NUL
    CHECK(FirstInvalidUtf8("\xED\xA0\x80") == 0u);       // a surrogate
    CHECK(FirstInvalidUtf8("x\xF5\x80\x80\x80") == 1u);  // beyond U+10FFFF
    CHECK(FirstInvalidUtf8("\xF4\x90\x80\x80") == 0u);   // beyond U+10FFFF
    CHECK(FirstInvalidUtf8("中\xE4\xB8") == 3u);         // cut off at the end
    CHECK(FirstInvalidUtf8("\x80") == 0u);               // a lone continuation
    CHECK(FirstInvalidUtf8("\xE0\x80\x80") == 0u);       // overlong 3-byte
  }

  TEST_CASE("CharsetOfContentType: UTF-8 by default, GBK family decoded as GB18030") {
    CHECK(std::get<Charset>(CharsetOfContentType("")) == Charset::kUtf8);
    CHECK(std::get<Charset>(CharsetOfContentType("text/csv")) == Charset::kUtf8);
    CHECK(std::get<Charset>(CharsetOfContentType("text/csv; charset=utf-8")) == Charset::kUtf8);
    CHECK(std::get<Charset>(CharsetOfContentType("text/csv;charset=GBK")) == Charset::kGb18030);
    CHECK(std::get<Charset>(CharsetOfContentType("text/csv; Charset=\"GB2312\"")) ==
          Charset::kGb18030);
    CHECK(std::get<Charset>(CharsetOfContentType("text/csv; header=present; charset=gb18030")) ==
          Charset::kGb18030);
    const auto latin = CharsetOfContentType("text/csv; charset=ISO-8859-1");
    REQUIRE(std::holds_alternative<InputError>(latin));
    CHECK(std::get<InputError>(latin).code == "unsupported_charset");
  }

  TEST_CASE("ToUtf8: GBK bytes become UTF-8; bad or cut-off bytes are named by offset") {
    // 单位 in GBK, then ASCII.
    const auto text = ToUtf8("\xB5\xA5\xCE\xBB,1", Charset::kGb18030);
    REQUIRE(std::holds_alternative<std::string>(text));
    CHECK(std::get<std::string>(text) == "单位,1");
    const auto bad = ToUtf8("ab\xFF\x30", Charset::kGb18030);
    REQUIRE(std::holds_alternative<InputError>(bad));
    CHECK(std::get<InputError>(bad).code == "invalid_encoding");
    CHECK(std::get<InputError>(bad).message.find("byte 2") != std::string::npos);
    const auto cut = ToUtf8("ab\xB5", Charset::kGb18030);
    REQUIRE(std::holds_alternative<InputError>(cut));
    CHECK(std::get<InputError>(cut).code == "invalid_encoding");
    CHECK(std::get<InputError>(cut).message.find("ends inside") != std::string::npos);
    const auto gbk_as_utf8 = ToUtf8("\xB5\xA5", Charset::kUtf8);
    REQUIRE(std::holds_alternative<InputError>(gbk_as_utf8));
    CHECK(std::get<InputError>(gbk_as_utf8).message.find("charset=GB18030") != std::string::npos);
  }

  TEST_CASE("ParseRemittanceCsv: the UTF-8 and the GBK samples read as their lines") {
    const RemittanceFile utf8 = Parse(ReadSample("remittance-utf8.csv"));
    REQUIRE(utf8.lines.size() == 3);
    CHECK(utf8.errors.empty());
    CHECK(utf8.lines[0].line == 2);
    CHECK(utf8.lines[0].employer.value == 1);
    CHECK(utf8.lines[0].list == 1);
    CHECK(utf8.lines[0].month == 202307);
    CHECK(utf8.lines[0].account.value == 100001);
    CHECK(utf8.lines[0].base.value == 800'000);
    CHECK(utf8.lines[2].employee_part.value == 144'000);
    CHECK(utf8.lines[2].employer_part.value == 144'000);
    CHECK(utf8.lines[2].bank_reference == "ICBC20230715000001");

    const auto converted = ToUtf8(ReadSample("remittance-gbk.csv"), Charset::kGb18030);
    REQUIRE(std::holds_alternative<std::string>(converted));
    const RemittanceFile gbk = Parse(std::get<std::string>(converted));
    REQUIRE(gbk.lines.size() == 3);
    CHECK(gbk.errors.empty());
    for (size_t i = 0; i < 3; ++i) {
      CHECK(gbk.lines[i].month == 202308);
      CHECK(gbk.lines[i].list == 2);
      CHECK(gbk.lines[i].kind == ledger::RemittanceKind::kRegular);
      CHECK(gbk.lines[i].account == utf8.lines[i].account);
      CHECK(gbk.lines[i].base == utf8.lines[i].base);
    }
    // Without the charset the GBK file is refused, not misread.
    CHECK(std::holds_alternative<InputError>(
        ToUtf8(ReadSample("remittance-gbk.csv"), Charset::kUtf8)));
  }

  TEST_CASE("ParseRemittanceCsv: RFC 4180 framing — quotes, CRLF, a BOM, blank lines") {
    const RemittanceFile file = Parse(
        "\xEF\xBB\xBF"
        "bank_reference, Account ,EMPLOYER,list,period,base,employee_part,employer_part\r\n"
        "\r\n"
        "\"REF,\"\"1\"\"\",7,1,3,202309,\"1000\",120.5,120.05\r\n"
        "  \n"
        "\"multi\nline\",8,1,3,202309,1000.0,0,120\n"
        "R3,9,1,4,202309,1000.0,0,120");  // no line end at the end of the file
    // A quoted field may span lines (a reference may not hold a line break, though).
    REQUIRE(file.errors.size() == 1);
    CHECK(file.errors[0].line == 5);
    CHECK(file.errors[0].error.code == "csv_invalid_reference");
    REQUIRE(file.lines.size() == 2);
    CHECK(file.lines[0].line == 3);
    CHECK(file.lines[0].bank_reference == "REF,\"1\"");
    CHECK(file.lines[0].account.value == 7);
    CHECK(file.lines[0].base.value == 100'000);
    CHECK(file.lines[0].employee_part.value == 12'050);
    CHECK(file.lines[0].employer_part.value == 12'005);
    CHECK(file.lines[1].line == 7);
    CHECK(file.lines[1].bank_reference == "R3");
    CHECK(file.lines[1].employee_part.value == 0);
  }

  TEST_CASE("ParseRemittanceCsv: whole-file errors") {
    CHECK(FileError("").code == "csv_empty");
    CHECK(FileError("\n\n").code == "csv_empty");
    CHECK(FileError("employer,list,period\n").code == "csv_header");  // columns missing
    const InputError unknown =
        FileError(std::string(kHeader.substr(0, kHeader.size() - 1)) + ",memo\n");
    CHECK(unknown.code == "csv_header");
    CHECK(unknown.message.find("\"memo\"") != std::string::npos);
    CHECK(FileError("employer,employer,list\n").code == "csv_header");
    const InputError truncated =
        FileError(std::string(kHeader) + "1,1,01,202307,100001,8000,960,960,\"ICBC2023");
    CHECK(truncated.code == "csv_truncated");
    CHECK(truncated.message.find("line 2") != std::string::npos);
    std::string many(kHeader);
    for (size_t i = 0; i <= kCsvLinesMax; ++i) {
      many += fmt::format("1,1,01,202307,{},8000,960,960,R\n", i + 1);
    }
    CHECK(FileError(many).code == "csv_too_many_lines");
  }

  TEST_CASE("ParseRemittanceCsv: each malformed line has its own code; good lines stay") {
    struct Case {
      const char* line;
      const char* code;
      const char* mentions;
    };
    const std::vector<Case> cases = {
        {"1,1,01,202307,100001,8000.00,960.00", "csv_field_count", "truncated"},
        {"1,1,01,202307,100001,8000.00,960.00,960.00,R,extra", "csv_field_count", "10 fields"},
        {"x,1,01,202307,100001,8000,960,960,R", "csv_invalid_number", "employer"},
        {"1,,01,202307,100001,8000,960,960,R", "csv_missing_value", "list"},
        {"1,1,01,202307,18446744073709551616,8000,960,960,R", "csv_invalid_number", "account"},
        {"1,1,03,202307,100001,8000,960,960,R", "csv_invalid_kind", "kind"},
        {"1,1,01,202313,100001,8000,960,960,R", "csv_invalid_period", "period"},
        {"1,1,01,2023-7,100001,8000,960,960,R", "csv_invalid_period", "period"},
        {"1,1,01,202307,100001,8000.001,960,960,R", "csv_invalid_amount", "base"},
        {"1,1,01,202307,100001,8 000,960,960,R", "csv_invalid_amount", "base"},
        {"1,1,01,202307,100001,12345678901,960,960,R", "csv_invalid_amount", "base"},
        {"1,1,01,202307,100001,8000,-960,960,R", "amount_must_not_be_negative", "employee_part"},
        {"1,1,01,202307,100001,0,960,960,R", "amount_must_be_positive", "base"},
        {"1,1,01,202307,100001,8000,0,0.00,R", "amount_must_be_positive", "both zero"},
        {"1,1,01,202307,100001,8000,960,960,", "csv_missing_value", "bank_reference"},
        {"1,1,01,202307,100001,8000,960,960,a\"b", "csv_quote", "quote"},
        {"1,1,01,202307,100001,8000,960,960,\"R\"x", "csv_quote", "closing quote"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.line);
      const InputError error = LineErrorOf(c.line);
      CHECK(error.code == c.code);
      CHECK_MESSAGE(error.message.find(c.mentions) != std::string::npos, error.message);
    }
    // Errors do not stop the lines around them.
    const RemittanceFile file = Parse(std::string(kHeader) +
                                      "1,1,01,202307,100001,8000,960,960,R\n"
                                      "1,1,01,202307,100002,oops,780,780,R\n"
                                      "1,1,01,202307,100003,12000,1440,1440,R\n");
    CHECK(file.detail_lines == 3);
    REQUIRE(file.lines.size() == 2);
    CHECK(file.lines[1].line == 4);
    REQUIRE(file.errors.size() == 1);
    CHECK(file.errors[0].line == 3);
  }

  TEST_CASE("ParseRemittanceCsv: one line per account and month; a list says one thing") {
    const RemittanceFile file =
        Parse(std::string(kHeader) +
              "1,1,01,202307,100001,8000,960,960,R1\n"
              "1,1,01,202307,100001,8000,960,960,R1\n"    // the same account and month
              "1,1,01,202307,100002,6500,780,780,R2\n"    // another bank reference
              "1,1,02,202307,100003,6500,780,780,R1\n"    // another kind
              "1,2,01,202307,100001,8000,960,960,R9\n");  // another list: fine
    REQUIRE(file.errors.size() == 3);
    CHECK(file.errors[0].error.code == "csv_duplicate_line");
    CHECK(file.errors[0].error.message.find("line 2") != std::string::npos);
    CHECK(file.errors[1].error.code == "csv_inconsistent_list");
    CHECK(file.errors[2].error.code == "csv_inconsistent_list");
    CHECK(file.lines.size() == 2);
  }

  TEST_CASE("PlanRemittance: each list is opened, allocated line by line and completed") {
    const RemittanceFile file = Parse(std::string(kHeader) +
                                      "5,10,02,202303,501,8000,960,960,B1\n"
                                      "6,3,01,202307,601,6500,780,780,B2\n"
                                      "5,10,02,202301,502,7000,840,840,B1\n"
                                      "5,10,02,202303,502,7000,840,840,B1\n");
    const RemittancePlan plan = PlanRemittance(file, 20230720);
    REQUIRE(plan.commands.size() == 2 + 3 + 2 + 1);
    REQUIRE(plan.lists.size() == 2);
    const auto& open = std::get<ledger::OpenRemittance>(plan.commands[0].body);
    CHECK(open.remittance_id == 10);
    CHECK(open.employer.value == 5);
    CHECK(open.kind == ledger::RemittanceKind::kBackPayment);
    CHECK(open.from_month == 202301);
    CHECK(open.to_month == 202303);
    CHECK(open.accounts_count == 2);
    CHECK(open.total.value == 192'000 + 168'000 + 168'000);
    CHECK(open.list_reference == "B1");
    CHECK(plan.commands[0].header.idempotency_key == "rf:5:10:open");
    CHECK(plan.commands[0].header.effective_date == 20230720);
    const auto& line = std::get<ledger::AllocateContribution>(plan.commands[2].body);
    CHECK(line.account.value == 502);
    CHECK(line.month == 202301);
    CHECK(line.employer_amount.value == 84'000);
    CHECK(plan.commands[2].header.idempotency_key == "rf:5:10:502:202301");
    CHECK(std::holds_alternative<ledger::CompleteRemittance>(plan.commands[4].body));
    CHECK(plan.commands[4].header.idempotency_key == "rf:5:10:complete");
    CHECK(plan.lists[0].open_command == 0);
    CHECK(plan.lists[0].complete_command == 4);
    CHECK(plan.lists[1].open_command == 5);
    CHECK(plan.lists[1].complete_command == 7);
    REQUIRE(plan.lines.size() == 4);
    CHECK(plan.lines[0].command == 1);  // file line 2
    CHECK(plan.lines[1].command == 6);  // file line 3: the second list
    CHECK(plan.lines[2].command == 2);
    CHECK(plan.lines[3].command == 3);
    for (const auto& command : plan.commands) {
      CHECK(command.header.actor.empty());  // left to AuthorizeCommand
      CHECK(command.header.idempotency_key.size() <= 128);
    }
  }
}

}  // namespace
}  // namespace hpf::ledgerd
