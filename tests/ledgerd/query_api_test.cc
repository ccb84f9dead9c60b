// tests/ledgerd/query_api_test.cc — the query endpoints end to end: a real log, sequencer and
// projection runner behind the HTTP server on loopback. A small scenario is posted over HTTP
// and read back with ?min_position from the POST's answer (read-your-writes); lists are walked
// page by page; bad parameters, unknown ids, who may read, the bounded wait, /metrics.
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tests/ledgerd/ledgerd_stack.h"
#include "tests/support/ledger_commands.h"

namespace hpf::ledgerd {
namespace {

namespace json = boost::json;
using ledger::AccountId;
using ledger::EmployerId;
using ledger::Fen;
using testing::kAdminToken;
using testing::kAuditorToken;
using testing::kBankIcbcToken;
using testing::kOperatorToken;
using testing::kReviewerToken;
using testing::LedgerdStack;
using testing::MakeCommand;

constexpr std::string_view kCsvUtf8 = "text/csv; charset=UTF-8";

json::value Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  REQUIRE_MESSAGE(!ec, "not JSON: ", text);
  return value;
}

std::string ErrorCode(const HttpClientResponse& response) {
  const json::value body = Parse(response.body);
  const auto* error = body.as_object().if_contains("error");
  REQUIRE_MESSAGE(error != nullptr, response.body);
  return std::string(error->at("code").as_string());
}

int64_t Int(const json::value& value, std::string_view key) { return value.at(key).as_int64(); }
std::string Text(const json::value& value, std::string_view key) {
  return std::string(value.at(key).as_string());
}

// Employer 1 (ICBC, 12 % / 12 %, from 2023-07), accounts 100001..100003, and the bank's
// receipts for July and August (6 360.00 each: one month of the three accounts).
std::vector<ledger::Command> EmployerSetup() {
  ledger::RegisterEmployer employer = testing::SampleEmployer(EmployerId{1});
  employer.first_contribution_month = 202307;
  std::vector<ledger::Command> commands = {MakeCommand("setup:employer", 20230701, employer)};
  const std::pair<uint64_t, int64_t> accounts[] = {
      {100001, 800'000}, {100002, 650'000}, {100003, 1'200'000}};
  for (const auto& [id, base] : accounts) {
    commands.push_back(MakeCommand(fmt::format("setup:account:{}", id), 20230701,
                                   ledger::OpenAccount{.account = AccountId{id},
                                                       .employer = EmployerId{1},
                                                       .person_id = id,
                                                       .contribution_base = Fen{base},
                                                       .first_contribution_month = 202307}));
  }
  for (const uint32_t month : {202307u, 202308u}) {
    commands.push_back(
        MakeCommand(fmt::format("setup:receipt:{}", month), month * 100 + 15,
                    ledger::RecordBankReceipt{EmployerId{1}, "ICBC", fmt::format("RCPT{}", month),
                                              Fen{636'000}, 1}));
  }
  return commands;
}

// July's remittance list of the three accounts, posted by the bank over HTTP. Returns the
// highest position its answer names: what the caller wants to read back.
uint64_t PostJulyList(LedgerdStack& stack) {
  const std::string file =
      "employer,list,kind,period,account,base,employee_part,employer_part,bank_reference\n"
      "1,1,01,202307,100001,8000.00,960.00,960.00,RCPT202307\n"
      "1,1,01,202307,100002,6500.00,780.00,780.00,RCPT202307\n"
      "1,1,01,202307,100003,12000.00,1440.00,1440.00,RCPT202307\n";
  const auto response = stack.Post("/v1/bank-files/remittance?effective_date=20230715", file,
                                   kBankIcbcToken, kCsvUtf8);
  REQUIRE_MESSAGE(response.status == 200, response.body);
  const json::value body = Parse(response.body);
  uint64_t position = 0;
  for (const json::value& line : body.at("lines").as_array()) {
    REQUIRE(Text(line, "status") == "accepted");
    position = std::max(position, static_cast<uint64_t>(Int(line, "position")));
  }
  const json::value& list = body.at("lists").as_array().at(0);
  REQUIRE(Text(list, "status") == "completed");
  position = std::max(position, static_cast<uint64_t>(Int(list.at("complete"), "position")));
  return position;
}

uint64_t PositionHeader(const HttpClientResponse& response) {
  const std::string header(response.Header("x-ledger-position"));
  REQUIRE_MESSAGE(!header.empty(), "no X-Ledger-Position: ", response.body);
  return std::stoull(header);
}

// Every item of a list, walked with `limit` per page; checks each page's size and cursor.
std::vector<json::value> Walk(const LedgerdStack& stack, const std::string& target, size_t limit) {
  std::vector<json::value> items;
  std::string after;
  for (int pages = 0; pages < 1000; ++pages) {
    const char separator = target.find('?') == std::string::npos ? '?' : '&';
    const std::string url = fmt::format("{}{}limit={}{}", target, separator, limit,
                                        after.empty() ? "" : "&after=" + after);
    const auto response = stack.Get(url, kAuditorToken);
    REQUIRE_MESSAGE(response.status == 200, url, ": ", response.body);
    const json::value body = Parse(response.body);
    const json::array& page = body.at("items").as_array();
    CHECK(page.size() <= limit);
    items.insert(items.end(), page.begin(), page.end());
    if (body.at("next").is_null()) return items;
    CHECK(page.size() == limit);
    after = std::string(body.at("next").as_string());
  }
  FAIL("the list did not end within 1000 pages: ", target);
  return items;
}

TEST_SUITE("ledgerd") {
  TEST_CASE("Queries: figures of a posted remittance list, read back with min_position") {
    LedgerdStack stack;
    stack.Apply(EmployerSetup());
    const uint64_t written = PostJulyList(stack);
    const std::string min = fmt::format("min_position={}", written);

    // The account: July's 1 920.00 (960.00 + 960.00), paid up to July.
    const auto account = stack.Get("/v1/accounts/100001?" + min, kOperatorToken);
    REQUIRE_MESSAGE(account.status == 200, account.body);
    CHECK(PositionHeader(account) >= written);
    const json::value a = Parse(account.body);
    CHECK(Int(a, "id") == 100001);
    CHECK(Int(a, "employer") == 1);
    CHECK(Text(a, "status") == "normal");
    CHECK(Int(a, "balance_fen") == 192'000);
    CHECK(Text(a, "balance_yuan") == "1920.00");
    CHECK(Int(a, "contribution_base_fen") == 800'000);
    CHECK(Text(a, "contribution_base_yuan") == "8000.00");
    CHECK(Text(a, "paid_up_to_month") == "2023-07");
    CHECK(Text(a, "opened_on") == "2023-07-01");

    // Its statement: one line, value-dated 2023-07-15, and none in a range before it.
    const auto statement = stack.Get("/v1/accounts/100003/statement?" + min, kAuditorToken);
    REQUIRE_MESSAGE(statement.status == 200, statement.body);
    const json::value s = Parse(statement.body);
    REQUIRE(s.at("items").as_array().size() == 1);
    const json::value& line = s.at("items").as_array()[0];
    CHECK(Text(line, "effective_date") == "2023-07-15");
    CHECK(Int(line, "amount_fen") == 288'000);
    CHECK(Int(line, "balance_fen") == 288'000);
    CHECK(Text(line, "contribution_month") == "2023-07");
    CHECK(s.at("next").is_null());
    const auto before = stack.Get(
        "/v1/accounts/100003/statement?from=2023-07-01&to=2023-07-14&" + min, kAuditorToken);
    CHECK(Parse(before.body).at("items").as_array().empty());

    // The employer: paid up to July, August's receipt still in suspense.
    const auto employer = stack.Get("/v1/employers/1?as_of=2023-08-20&" + min, kReviewerToken);
    REQUIRE_MESSAGE(employer.status == 200, employer.body);
    const json::value e = Parse(employer.body);
    CHECK(Text(e, "paid_up_to_month") == "2023-07");
    CHECK(Int(e, "suspense_fen") == 636'000);
    CHECK(Text(e, "suspense_yuan") == "6360.00");
    CHECK(Int(e.at("accounts"), "normal") == 3);
    CHECK(Int(e.at("arrears"), "months") == 0);
    const auto employers = stack.Get("/v1/employers?status=normal&" + min, kAuditorToken);
    CHECK(Parse(employers.body).at("items").as_array().size() == 1);
    CHECK(Parse(stack.Get("/v1/employers?status=sealed&" + min, kAuditorToken).body)
              .at("items")
              .as_array()
              .empty());

    // The fund: one list's contributions, both receipts, the rest in suspense.
    const auto fund = stack.Get("/v1/fund/summary?as_of=2023-12-31&" + min, kAuditorToken);
    REQUIRE_MESSAGE(fund.status == 200, fund.body);
    const json::value f = Parse(fund.body);
    CHECK(Text(f, "from") == "2023-01-01");
    CHECK(Int(f, "paying_employers") == 1);
    CHECK(Int(f, "paying_employees") == 3);
    CHECK(Int(f, "contributions_fen") == 636'000);
    CHECK(Int(f, "contributions_count") == 3);
    CHECK(Int(f, "receipts_fen") == 1'272'000);
    CHECK(Int(f, "personal_accounts_fen") == 636'000);
    CHECK(Int(f, "suspense_fen") == 636'000);

    // The trial balance balances and carries the 201 total.
    const auto trial = stack.Get("/v1/audit/trial-balance?" + min, kAuditorToken);
    REQUIRE_MESSAGE(trial.status == 200, trial.body);
    const json::value t = Parse(trial.body);
    CHECK(t.at("balanced").as_bool());
    CHECK(Int(t, "debit_total_fen") == Int(t, "credit_total_fen"));
    bool saw_201 = false;
    for (const json::value& gl : t.at("lines").as_array()) {
      if (Int(gl, "gl_account") != 201) continue;
      saw_201 = true;
      CHECK(Int(gl, "balance_fen") == -636'000);
    }
    CHECK(saw_201);

    // 催缴: paid up to July, so five months behind by mid-January; none in September.
    const auto alerts = stack.Get("/v1/audit/alerts?as_of=2024-01-15&" + min, kAuditorToken);
    REQUIRE_MESSAGE(alerts.status == 200, alerts.body);
    const json::value alerts_body = Parse(alerts.body);
    const json::array& alert_items = alerts_body.at("items").as_array();
    REQUIRE(alert_items.size() == 1);
    CHECK(Int(alert_items[0], "employer") == 1);
    CHECK(Int(alert_items[0].at("arrears"), "months") == 5);
    CHECK(!alert_items[0].at("positions").as_array().empty());
    CHECK(Parse(stack.Get("/v1/audit/alerts?as_of=2023-09-15&" + min, kAuditorToken).body)
              .at("items")
              .as_array()
              .empty());

    // The audit trail: the bank's records carry its name; the account's include its opening.
    const auto by_bank = Walk(stack, "/v1/audit/trail?actor=icbc-qingdao&" + min, 1000);
    CHECK(by_bank.size() == 5);  // open, three lines, complete
    for (const json::value& entry : by_bank) CHECK(Text(entry, "actor") == "icbc-qingdao");
    const auto by_account = Walk(stack, "/v1/audit/trail?account=100002&" + min, 1000);
    REQUIRE(by_account.size() >= 2);
    CHECK(Text(by_account.front(), "event_type") == "AccountOpened");
  }

  TEST_CASE("Queries: pagination walks every item exactly once") {
    LedgerdStack stack;
    stack.Apply(EmployerSetup());
    const uint64_t written = PostJulyList(stack);
    stack.WaitForProjections();
    for (const size_t limit : {1u, 2u, 1000u}) {
      CAPTURE(limit);
      const auto accounts = Walk(stack, "/v1/accounts", limit);
      std::vector<int64_t> ids;
      for (const json::value& account : accounts) ids.push_back(Int(account, "id"));
      CHECK(ids == std::vector<int64_t>{100001, 100002, 100003});
      const auto trail = Walk(stack, "/v1/audit/trail", limit);
      std::set<int64_t> positions;
      for (const json::value& entry : trail) positions.insert(Int(entry, "position"));
      CHECK(positions.size() == trail.size());  // none twice
      CHECK(static_cast<uint64_t>(*positions.rbegin()) == stack.head());
      CHECK(trail.size() == stack.head());  // every record, the ledger's own included
      CHECK(static_cast<uint64_t>(*positions.rbegin()) >= written);
    }
    const auto by_employer = Walk(stack, "/v1/accounts?employer=1&status=normal", 2);
    CHECK(by_employer.size() == 3);
    CHECK(Walk(stack, "/v1/accounts?employer=2", 2).empty());
  }

  TEST_CASE("Queries: bad parameters are 400 naming them; unknown ids are 404") {
    LedgerdStack stack;
    stack.Apply(EmployerSetup());
    struct Case {
      const char* target;
      unsigned status;
      const char* code;
    };
    const std::vector<Case> cases = {
        {"/v1/accounts/abc", 400, "invalid_path_parameter"},
        {"/v1/accounts/0", 400, "invalid_path_parameter"},
        {"/v1/accounts/99999999999999999999", 400, "invalid_path_parameter"},
        {"/v1/accounts/abc/statement", 400, "invalid_path_parameter"},
        {"/v1/employers/-1", 400, "invalid_path_parameter"},
        {"/v1/accounts?limit=0", 400, "invalid_query_parameter"},
        {"/v1/accounts?limit=1001", 400, "invalid_query_parameter"},
        {"/v1/accounts?limit=ten", 400, "invalid_query_parameter"},
        {"/v1/accounts?after=not-a-cursor", 400, "invalid_query_parameter"},
        {"/v1/accounts?status=open", 400, "invalid_query_parameter"},
        {"/v1/accounts?employer=x", 400, "invalid_query_parameter"},
        {"/v1/accounts?colour=red", 400, "unknown_query_parameter"},
        {"/v1/accounts?limit=1&limit=2", 400, "repeated_query_parameter"},
        {"/v1/accounts/100001?min_position=soon", 400, "invalid_query_parameter"},
        {"/v1/accounts/100001/statement?from=2023-13-01", 400, "invalid_query_parameter"},
        {"/v1/accounts/100001/statement?from=20230701", 400, "invalid_query_parameter"},
        {"/v1/accounts/100001/statement?from=2023-08-01&to=2023-07-01", 400,
         "invalid_query_parameter"},
        {"/v1/fund/summary?as_of=2023-02-29", 400, "invalid_query_parameter"},
        {"/v1/fund/summary?as_of=2023-06-30&from=2023-07-01", 400, "invalid_query_parameter"},
        {"/v1/audit/alerts?months_min=0", 400, "invalid_query_parameter"},
        {"/v1/audit/trail?account=1&employer=1", 400, "invalid_query_parameter"},
        {"/v1/audit/trail?actor=", 400, "invalid_query_parameter"},
        {"/v1/employers?status=bankrupt", 400, "invalid_query_parameter"},
        {"/v1/accounts/999", 404, "account_not_found"},
        {"/v1/accounts/999/statement", 404, "account_not_found"},
        {"/v1/employers/77", 404, "employer_not_found"},
        {"/v1/loans", 404, "not_found"},  // later issues
    };
    for (const Case& c : cases) {
      CAPTURE(c.target);
      const auto response = stack.Get(c.target, kAuditorToken);
      CHECK(response.status == c.status);
      CHECK(ErrorCode(response) == c.code);
      if (c.status == 404 && std::string_view(c.code) != "not_found") {
        CHECK(PositionHeader(response) == stack.head());
      }
    }
    // The message names the parameter.
    const auto limit = stack.Get("/v1/accounts?limit=0", kAuditorToken);
    CHECK(limit.body.find("limit must be") != std::string::npos);
  }

  TEST_CASE("Queries: min_position waits boundedly, then 503 projection_behind") {
    LedgerdStack stack;
    stack.Apply(EmployerSetup());
    const uint64_t ahead = stack.head() + 1000;
    const auto started = std::chrono::steady_clock::now();
    const auto response =
        stack.Get(fmt::format("/v1/accounts/100001?min_position={}", ahead), kAuditorToken);
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(response.status == 503);
    CHECK(ErrorCode(response) == "projection_behind");
    CHECK(waited >= kQueryWaitMax - std::chrono::milliseconds(100));
    CHECK(waited < kQueryWaitMax + std::chrono::seconds(3));
    // A position already applied answers at once.
    const auto now =
        stack.Get(fmt::format("/v1/accounts/100001?min_position={}", stack.head()), kAuditorToken);
    CHECK(now.status == 200);
    CHECK(PositionHeader(now) == stack.head());
  }

  TEST_CASE("Queries: staff and auditors read; banks and anonymous callers do not") {
    LedgerdStack stack;
    stack.Apply(EmployerSetup());
    for (const std::string_view target :
         {"/v1/accounts", "/v1/accounts/100001", "/v1/accounts/100001/statement", "/v1/employers",
          "/v1/employers/1", "/v1/fund/summary", "/v1/audit/trial-balance", "/v1/audit/alerts",
          "/v1/audit/trail"}) {
      CAPTURE(target);
      for (const std::string_view token :
           {kOperatorToken, kReviewerToken, kAuditorToken, kAdminToken}) {
        CHECK(stack.Get(target, token).status == 200);
      }
      // A bank reads nothing here, not even its own employers: DESIGN §4 has banks post.
      const auto bank = stack.Get(target, kBankIcbcToken);
      CHECK(bank.status == 403);
      CHECK(ErrorCode(bank) == "forbidden");
      CHECK(stack.Get(target, "").status == 401);
      CHECK(stack.Get(target, "not-a-known-token-0123456789").status == 401);
    }
  }

  TEST_CASE("GET /metrics: projection lag, applied position and rebuild state") {
    LedgerdStack stack;
    stack.Apply(EmployerSetup());
    const std::string head = std::to_string(stack.head());
    const auto metrics = stack.Get("/metrics", "");
    REQUIRE(metrics.status == 200);
    for (const std::string_view name : {"accounts", "statements", "employers", "fund-summary",
                                        "trial-balance", "audit-trail", "arrears-alerts"}) {
      CAPTURE(name);
      for (const std::string& line :
           {fmt::format("hpf_projection_lag_records{{projection=\"{}\"}} 0\n", name),
            fmt::format("hpf_projection_applied_position{{projection=\"{}\"}} {}\n", name, head),
            fmt::format("hpf_projection_rebuilding{{projection=\"{}\"}} 0\n", name),
            fmt::format("hpf_projection_rebuilds_total{{projection=\"{}\"}} 0\n", name)}) {
        CHECK_MESSAGE(metrics.body.find(line) != std::string::npos, line);
      }
    }
    CHECK(metrics.body.find("hpf_projections_up 1\n") != std::string::npos);
    // With the runner stopped the projections are down, and a wait for more is refused.
    REQUIRE(stack.runner().Stop().ok());
    const auto stopped = stack.Get("/metrics", "");
    CHECK(stopped.body.find("hpf_projections_up 0\n") != std::string::npos);
    const auto query = stack.Get(
        fmt::format("/v1/accounts/100001?min_position={}", stack.head() + 1), kAuditorToken);
    CHECK(query.status == 503);
    CHECK(ErrorCode(query) == "projections_unavailable");
  }
}

}  // namespace
}  // namespace hpf::ledgerd
