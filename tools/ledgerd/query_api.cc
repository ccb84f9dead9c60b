// tools/ledgerd/query_api.cc
#include "tools/ledgerd/query_api.h"

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <fmt/core.h>

#include "events/assert.h"
#include "ledger/money.h"
#include "projections/read_models/accounts.h"
#include "projections/read_models/arrears_alerts.h"
#include "projections/read_models/audit_trail.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/fund_summary.h"
#include "projections/read_models/read_models.h"
#include "projections/read_models/statements.h"
#include "projections/read_models/trial_balance.h"

namespace hpf::ledgerd {

namespace {

namespace json = boost::json;
namespace rm = projections::read_models;
using projections::ReadView;

std::string MonthText(ledger::Month month) {
  return fmt::format("{:04}-{:02}", month.year(), month.month());
}

json::value OptionalMonth(const std::optional<ledger::Month>& month) {
  if (!month.has_value()) return nullptr;
  return json::value(MonthText(*month));
}

// "<name>_fen": N, "<name>_yuan": "N.NN".
void PutMoney(json::object& object, std::string_view name, ledger::Fen amount) {
  object[fmt::format("{}_fen", name)] = amount.value;
  object[fmt::format("{}_yuan", name)] = ledger::FormatYuan(amount);
}

InputError BadParameter(std::string_view name, std::string_view rule, std::string_view text) {
  return InputError{"invalid_query_parameter", fmt::format("{} must be {}, not {}", name, rule,
                                                           JsonQuote(text.substr(0, 64)))};
}

// A decimal number in [min, max].
std::optional<uint64_t> ParseNumber(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

// The parameters every handler shares, parsed once; `error` is set for the first bad one.
class Params {
 public:
  Params(const HttpRequest& request, std::initializer_list<std::string_view> known)
      : query_(request) {
    error_ = query_.Check(known);
  }
  const std::optional<InputError>& error() const { return error_; }

  std::optional<uint64_t> Number(std::string_view name, uint64_t min, uint64_t max,
                                 std::string_view rule) {
    const auto text = query_.Get(name);
    if (!text.has_value() || error_.has_value()) return std::nullopt;
    const auto value = ParseNumber(*text, min, max);
    if (!value.has_value()) error_ = BadParameter(name, rule, *text);
    return value;
  }
  std::optional<uint64_t> Id(std::string_view name) {
    return Number(name, 1, UINT64_MAX, "a positive whole number (an id)");
  }
  std::optional<ledger::Date> Date(std::string_view name) {
    const auto text = query_.Get(name);
    if (!text.has_value() || error_.has_value()) return std::nullopt;
    auto date = ledger::Date::ParseIso(*text);
    if (!date.has_value()) {
      error_ = BadParameter(name, "a date yyyy-mm-dd from 1990-01-01 to 2199-12-31", *text);
      return std::nullopt;
    }
    return *date;
  }
  std::optional<std::string_view> Text(std::string_view name) const { return query_.Get(name); }
  // limit (1 .. kPageItemsMax, default kPageItemsDefault) and after (a `next` cursor).
  rm::PageRequest Page() {
    rm::PageRequest page;
    if (auto limit = Number("limit", 1, rm::kPageItemsMax,
                            fmt::format("a whole number from 1 to {}", rm::kPageItemsMax))) {
      page.limit = static_cast<size_t>(*limit);
    }
    if (const auto after = query_.Get("after"); after.has_value() && !error_.has_value()) {
      if (after->empty() || after->size() > rm::kCursorBytesMax) {
        error_ = BadParameter("after", "the `next` cursor of an earlier page", *after);
      }
      page.after = *after;
    }
    return page;
  }
  void Fail(InputError error) {
    if (!error_.has_value()) error_ = std::move(error);
  }

 private:
  QueryParams query_;
  std::optional<InputError> error_;
};

// A path parameter that must be an id: 400 otherwise.
std::optional<uint64_t> PathId(const HttpRequest& request, std::string_view name,
                               std::optional<InputError>* error) {
  const std::string_view text = request.PathParam(name);
  const auto value = ParseNumber(text, 1, UINT64_MAX);
  if (!value.has_value()) {
    *error = InputError{"invalid_path_parameter",
                        fmt::format("the {} id must be a positive whole number, not {}", name,
                                    JsonQuote(text.substr(0, 64)))};
  }
  return value;
}

// A query function's failure: kInvalidArgument is the caller's (a foreign cursor, from > to).
HttpResponse QueryFailure(const Status& status) {
  if (status.code() == StatusCode::kInvalidArgument) {
    return JsonError(400, "invalid_query_parameter", status.message());
  }
  return JsonError(500, "internal", status.ToString());
}

HttpResponse Answer(const ReadView& view, const json::value& body) {
  HttpResponse response{.status = 200, .body = json::serialize(body)};
  response.headers.emplace_back("X-Ledger-Position", std::to_string(view.position().value));
  return response;
}

template <typename T, typename F>
json::object PageJson(const rm::Page<T>& page, F&& item) {
  json::array items;
  items.reserve(page.items.size());
  for (const T& value : page.items) items.push_back(item(value));
  json::object out;
  out["items"] = std::move(items);
  if (page.next.empty()) {
    out["next"] = nullptr;
  } else {
    out["next"] = page.next;
  }
  return out;
}

json::object AccountJson(const rm::AccountSummary& account) {
  json::object out;
  out["id"] = account.account_id;
  out["employer"] = account.employer_id;
  out["status"] = rm::AccountStatusName(account.status);
  out["frozen"] = account.frozen;
  PutMoney(out, "balance", account.balance);
  PutMoney(out, "contribution_base", account.contribution_base);
  out["paid_up_to_month"] = MonthText(account.paid_up_to_month);
  out["opened_on"] = account.opened_on.ToIsoString();
  out["interest_year"] = account.interest_year.starting_year();
  PutMoney(out, "interest_credited", account.interest_credited);
  PutMoney(out, "held", account.held);
  PutMoney(out, "withdrawn", account.withdrawn);
  out["withdrawals_paid"] = account.withdrawals_paid;
  if (account.withdrawal_in_flight.has_value()) {
    const rm::WithdrawalInFlight& flight = *account.withdrawal_in_flight;
    json::object withdrawal;
    withdrawal["id"] = flight.withdrawal_id;
    withdrawal["status"] = rm::WithdrawalStatusName(flight.status);
    withdrawal["reason"] = static_cast<int>(flight.reason);
    PutMoney(withdrawal, "amount", flight.amount);
    withdrawal["position"] = flight.position;
    out["withdrawal_in_flight"] = std::move(withdrawal);
  } else {
    out["withdrawal_in_flight"] = nullptr;
  }
  if (account.closure.has_value()) {
    const rm::AccountClosure& closure = *account.closure;
    json::object closed;
    closed["closed_on"] = closure.closed_on.ToIsoString();
    closed["reason"] = static_cast<int>(closure.reason);
    if (closure.cause_kind == hpf::schema::v1::EntityKind::Withdrawal) {
      closed["withdrawal"] = closure.cause_id;
    } else {
      closed["withdrawal"] = nullptr;
    }
    closed["position"] = closure.position;
    out["closure"] = std::move(closed);
  } else {
    out["closure"] = nullptr;
  }
  out["last_position"] = account.last_position;
  return out;
}

json::object StatementLineJson(const rm::StatementLine& line) {
  json::object out;
  out["position"] = line.position;
  out["effective_date"] = line.effective_date.ToIsoString();
  out["recorded_at_us"] = line.recorded_at_us;
  out["event_type"] = line.event_type;
  out["business_type"] = line.business_type;
  out["contribution_month"] = OptionalMonth(line.contribution_month);
  if (line.reversed_position != 0) {
    out["reversed_position"] = line.reversed_position;
  } else {
    out["reversed_position"] = nullptr;
  }
  PutMoney(out, "amount", line.amount);
  PutMoney(out, "balance", line.balance);
  return out;
}

json::object ArrearsJson(const rm::Arrears& arrears) {
  json::object out;
  out["months"] = arrears.months_count;
  out["first_unpaid_month"] = OptionalMonth(arrears.first_unpaid_month);
  out["last_due_month"] = OptionalMonth(arrears.last_due_month);
  json::array deferrals;
  for (const uint64_t position : arrears.deferral_positions) deferrals.push_back(position);
  out["deferral_positions"] = std::move(deferrals);
  return out;
}

json::object EmployerJson(const rm::EmployerSummary& employer, ledger::Date as_of) {
  json::object out;
  out["id"] = employer.employer_id;
  out["registered"] = employer.registered;
  out["name"] = employer.name;
  out["unified_social_credit_code"] = employer.unified_social_credit_code;
  out["bank_code"] = employer.bank_code;
  out["employer_rate_ppm"] = employer.employer_rate_ppm;
  out["employee_rate_ppm"] = employer.employee_rate_ppm;
  out["registered_on"] = employer.registered_on.has_value()
                             ? json::value(employer.registered_on->ToIsoString())
                             : json::value(nullptr);
  out["status"] = rm::EmployerStatusName(employer.status);
  out["status_changed_on"] = employer.status_changed_on.has_value()
                                 ? json::value(employer.status_changed_on->ToIsoString())
                                 : json::value(nullptr);
  out["paid_up_to_month"] = OptionalMonth(employer.paid_up_to_month);
  out["paid_up_position"] = employer.paid_up_position;
  out["open_remittance"] = employer.open_remittance_id;
  json::array deferrals;
  for (const rm::DeferralGrant& grant : employer.deferrals) {
    deferrals.push_back(json::object{{"from_month", MonthText(grant.from_month)},
                                     {"to_month", MonthText(grant.to_month)},
                                     {"position", grant.position}});
  }
  out["deferrals"] = std::move(deferrals);
  PutMoney(out, "suspense", employer.suspense);
  out["accounts"] = json::object{{"normal", employer.accounts.normal},
                                 {"sealed", employer.accounts.sealed},
                                 {"closed", employer.accounts.closed},
                                 {"frozen", employer.accounts.frozen}};
  out["as_of"] = as_of.ToIsoString();
  out["arrears"] = ArrearsJson(employer.arrears);
  return out;
}

json::object AuditEntryJson(const rm::AuditEntry& entry) {
  json::object out;
  out["position"] = entry.position;
  out["event_type"] = entry.event_type;
  out["stream"] = json::object{{"kind", hpf::schema::v1::EnumNameEntityKind(entry.stream_kind)},
                               {"id", entry.stream_id},
                               {"version", entry.stream_version}};
  out["actor"] = entry.actor;
  out["channel"] = entry.channel;
  out["idempotency_key"] = entry.idempotency_key;
  out["command_part"] = entry.command_part;
  out["command_parts"] = entry.command_parts;
  out["effective_date"] = entry.effective_date.ToIsoString();
  out["recorded_at_us"] = entry.recorded_at_us;
  PutMoney(out, "debits", entry.debits);
  return out;
}

struct Api {
  QueryApiOptions options;

  ledger::Date Today() const { return options.today ? options.today() : TodayInChina(); }

  // The view of `projection` for this request: at once, or after ?min_position was reached.
  // On failure answers the request and returns null.
  std::unique_ptr<ReadView> OpenView(std::string_view projection, Params& params,
                                     const Reply& reply) const {
    const auto min_position =
        params.Number("min_position", 0, INT64_MAX, "a log position (a whole number)");
    if (params.error().has_value()) {
      reply(JsonError(400, *params.error()));
      return nullptr;
    }
    auto view = min_position.has_value()
                    ? options.runner->WaitForPosition(
                          projection, events::GlobalPosition{*min_position}, kQueryWaitMax)
                    : options.runner->View(projection);
    if (view.has_value()) return std::move(view).value();
    const Status& status = view.error();
    if (status.code() == StatusCode::kDeadlineExceeded) {
      reply(JsonError(
          503, "projection_behind",
          fmt::format("the {} read model has not reached position {} within {} ms "
                      "({}); retry later",
                      projection, *min_position, kQueryWaitMax.count(), status.message())));
    } else {
      reply(JsonError(
          503, "projections_unavailable",
          fmt::format("the {} read model cannot answer: {}", projection, status.ToString())));
    }
    return nullptr;
  }

  // ------------------------------------------------------------ /v1/accounts
  void ListAccounts(RequestContext&& context, const Reply& reply) const {
    Params params(context.request, {"employer", "status", "limit", "after", "min_position"});
    rm::AccountFilter filter;
    filter.employer_id = params.Id("employer");
    if (const auto status = params.Text("status")) {
      auto parsed = rm::ParseAccountStatus(*status);
      if (!parsed.has_value()) {
        params.Fail(BadParameter("status", "normal, sealed or closed", *status));
      } else {
        filter.status = *parsed;
      }
    }
    const rm::PageRequest page = params.Page();
    auto view = OpenView("accounts", params, reply);
    if (view == nullptr) return;
    auto result = rm::ListAccounts(*view, filter, page);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    reply(Answer(*view, PageJson(*result, AccountJson)));
  }

  void GetAccount(RequestContext&& context, const Reply& reply) const {
    std::optional<InputError> error;
    const auto id = PathId(context.request, "id", &error);
    if (error.has_value()) return reply(JsonError(400, *error));
    Params params(context.request, {"min_position"});
    auto view = OpenView("accounts", params, reply);
    if (view == nullptr) return;
    auto result = rm::GetAccount(*view, *id);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    if (!result->has_value()) return reply(NotFound("account", *id, *view));
    reply(Answer(*view, AccountJson(**result)));
  }

  void GetStatement(RequestContext&& context, const Reply& reply) const {
    std::optional<InputError> error;
    const auto id = PathId(context.request, "id", &error);
    if (error.has_value()) return reply(JsonError(400, *error));
    Params params(context.request, {"from", "to", "limit", "after", "min_position"});
    rm::StatementRequest request{.account_id = *id,
                                 .from = params.Date("from"),
                                 .to = params.Date("to"),
                                 .page = params.Page()};
    if (request.from.has_value() && request.to.has_value() && *request.from > *request.to) {
      params.Fail(InputError{"invalid_query_parameter", "from must not be after to"});
    }
    // The account's existence comes from the accounts model; the lines from statements.
    auto accounts = OpenView("accounts", params, reply);
    if (accounts == nullptr) return;
    auto account = rm::GetAccount(*accounts, *id);
    if (!account.has_value()) return reply(QueryFailure(account.error()));
    if (!account->has_value()) return reply(NotFound("account", *id, *accounts));
    auto view = OpenView("statements", params, reply);
    if (view == nullptr) return;
    auto result = rm::Statement(*view, request);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    json::object body = PageJson(*result, StatementLineJson);
    body["account"] = *id;
    reply(Answer(*view, body));
  }

  // ------------------------------------------------------------ /v1/employers
  void ListEmployers(RequestContext&& context, const Reply& reply) const {
    Params params(context.request, {"status", "as_of", "limit", "after", "min_position"});
    std::optional<rm::EmployerStatus> status;
    if (const auto text = params.Text("status")) {
      auto parsed = rm::ParseEmployerStatus(*text);
      if (!parsed.has_value()) {
        params.Fail(BadParameter("status", "normal, sealed or closed", *text));
      } else {
        status = *parsed;
      }
    }
    const ledger::Date as_of = params.Date("as_of").value_or(Today());
    const rm::PageRequest page = params.Page();
    auto view = OpenView("employers", params, reply);
    if (view == nullptr) return;
    auto result = rm::ListEmployers(*view, status, as_of, page);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    reply(Answer(*view, PageJson(*result, [as_of](const rm::EmployerSummary& employer) {
      return EmployerJson(employer, as_of);
    })));
  }

  void GetEmployer(RequestContext&& context, const Reply& reply) const {
    std::optional<InputError> error;
    const auto id = PathId(context.request, "id", &error);
    if (error.has_value()) return reply(JsonError(400, *error));
    Params params(context.request, {"as_of", "min_position"});
    const ledger::Date as_of = params.Date("as_of").value_or(Today());
    auto view = OpenView("employers", params, reply);
    if (view == nullptr) return;
    auto result = rm::GetEmployer(*view, *id, as_of);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    if (!result->has_value() || !(*result)->registered) {
      return reply(NotFound("employer", *id, *view));
    }
    reply(Answer(*view, EmployerJson(**result, as_of)));
  }

  // ------------------------------------------------------------ /v1/fund/summary
  void GetFundSummary(RequestContext&& context, const Reply& reply) const {
    Params params(context.request, {"as_of", "from", "to", "min_position"});
    const ledger::Date as_of = params.Date("as_of").value_or(Today());
    const auto from = params.Date("from");
    const auto to = params.Date("to");
    rm::FundSummaryRequest request{.as_of = as_of, .from = as_of, .to = to.value_or(as_of)};
    // The flows default to the calendar year to date (the annual report's period).
    if (from.has_value()) {
      request.from = *from;
    } else if (auto first = ledger::Date::FromCivil(as_of.year(), 1, 1); first.has_value()) {
      request.from = *first;
    }
    if (request.from > request.to) {
      params.Fail(InputError{"invalid_query_parameter", "from must not be after to"});
    }
    auto view = OpenView("fund-summary", params, reply);
    if (view == nullptr) return;
    auto result = rm::ReadFundSummary(*view, request);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    const rm::FundSummary& summary = *result;
    json::object out;
    out["as_of"] = summary.as_of.ToIsoString();
    out["from"] = summary.from.ToIsoString();
    out["to"] = summary.to.ToIsoString();
    out["paying_employers"] = summary.paying_employers;
    out["paying_employees"] = summary.paying_employees;
    PutMoney(out, "contributions", summary.contributions);
    out["contributions_count"] = summary.contributions_count;
    PutMoney(out, "back_payments", summary.back_payments);
    out["back_payments_count"] = summary.back_payments_count;
    PutMoney(out, "receipts", summary.receipts);
    PutMoney(out, "interest_credited", summary.interest_credited);
    PutMoney(out, "interest_to_date", summary.interest_to_date);
    PutMoney(out, "withdrawals", summary.withdrawals);
    out["withdrawals_count"] = summary.withdrawals_count;
    json::array by_reason;
    for (const rm::FundSummary::ByReason& reason : summary.withdrawals_by_reason) {
      json::object item;
      item["reason"] = static_cast<int>(reason.reason);
      item["count"] = reason.count;
      PutMoney(item, "amount", reason.amount);
      by_reason.push_back(std::move(item));
    }
    out["withdrawals_by_reason"] = std::move(by_reason);
    PutMoney(out, "personal_accounts", summary.personal_accounts);
    PutMoney(out, "suspense", summary.suspense);
    out["closed_accounts"] = summary.closed_accounts;
    reply(Answer(*view, out));
  }

  // ------------------------------------------------------------ /v1/audit/*
  void GetTrialBalance(RequestContext&& context, const Reply& reply) const {
    Params params(context.request, {"min_position"});
    auto view = OpenView("trial-balance", params, reply);
    if (view == nullptr) return;
    auto result = rm::ReadTrialBalance(*view);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    json::array lines;
    for (const rm::TrialBalanceLine& line : result->lines) {
      json::object item;
      item["gl_account"] = line.gl_account;
      item["name"] = line.name;
      item["normal_side"] = line.normal_side == rm::NormalSide::kDebit ? "debit" : "credit";
      PutMoney(item, "debit", line.debit);
      PutMoney(item, "credit", line.credit);
      PutMoney(item, "balance", line.balance);
      item["postings_count"] = line.postings_count;
      lines.push_back(std::move(item));
    }
    json::object out;
    out["lines"] = std::move(lines);
    PutMoney(out, "debit_total", result->debit_total);
    PutMoney(out, "credit_total", result->credit_total);
    out["balanced"] = result->debit_total == result->credit_total;
    reply(Answer(*view, out));
  }

  void GetAlerts(RequestContext&& context, const Reply& reply) const {
    Params params(context.request, {"as_of", "months_min", "limit", "after", "min_position"});
    rm::ArrearsAlertsRequest request;
    request.as_of = params.Date("as_of").value_or(Today());
    if (const auto months = params.Number(
            "months_min", 1, rm::kArrearsAlertMonthsMax,
            fmt::format("a whole number of months from 1 to {}", rm::kArrearsAlertMonthsMax))) {
      request.months_min = static_cast<uint32_t>(*months);
    }
    request.page = params.Page();
    auto view = OpenView("arrears-alerts", params, reply);
    if (view == nullptr) return;
    auto result = rm::ArrearsAlerts(*view, request);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    json::object body = PageJson(*result, [](const rm::ArrearsAlert& alert) {
      json::object out;
      out["kind"] = "employer_in_arrears";
      out["employer"] = alert.employer_id;
      out["name"] = alert.name;
      out["status"] = rm::EmployerStatusName(alert.status);
      out["paid_up_to_month"] = MonthText(alert.paid_up_to_month);
      out["arrears"] = ArrearsJson(alert.arrears);
      json::array positions;
      for (const uint64_t position : alert.positions) positions.push_back(position);
      out["positions"] = std::move(positions);
      return out;
    });
    body["as_of"] = request.as_of.ToIsoString();
    body["months_min"] = request.months_min;
    reply(Answer(*view, body));
  }

  void GetAuditTrail(RequestContext&& context, const Reply& reply) const {
    Params params(context.request,
                  {"actor", "account", "employer", "from", "to", "limit", "after", "min_position"});
    rm::AuditQuery query;
    if (const auto actor = params.Text("actor")) {
      if (actor->empty() || actor->size() > rm::kAuditActorBytesMax) {
        params.Fail(BadParameter(
            "actor", fmt::format("a principal's name of 1 to {} bytes", rm::kAuditActorBytesMax),
            *actor));
      }
      query.actor = *actor;
    }
    const auto account = params.Id("account");
    const auto employer = params.Id("employer");
    if (account.has_value() && employer.has_value()) {
      params.Fail(InputError{"invalid_query_parameter",
                             "give account or employer, not both: an entry names one entity"});
    }
    if (account.has_value())
      query.entity = rm::AuditEntity{hpf::schema::v1::EntityKind::Account, *account};
    if (employer.has_value()) {
      query.entity = rm::AuditEntity{hpf::schema::v1::EntityKind::Employer, *employer};
    }
    query.from = params.Date("from");
    query.to = params.Date("to");
    if (query.from.has_value() && query.to.has_value() && *query.from > *query.to) {
      params.Fail(InputError{"invalid_query_parameter", "from must not be after to"});
    }
    query.page = params.Page();
    auto view = OpenView("audit-trail", params, reply);
    if (view == nullptr) return;
    auto result = rm::AuditTrail(*view, query);
    if (!result.has_value()) return reply(QueryFailure(result.error()));
    reply(Answer(*view, PageJson(*result, AuditEntryJson)));
  }

  static HttpResponse NotFound(std::string_view what, uint64_t id, const ReadView& view) {
    HttpResponse response =
        JsonError(404, fmt::format("{}_not_found", what),
                  fmt::format("no {} {} as of position {} (a newer one: ask with ?min_position)",
                              what, id, view.position().value));
    response.headers.emplace_back("X-Ledger-Position", std::to_string(view.position().value));
    return response;
  }
};

}  // namespace

ledger::Date TodayInChina() {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  const int64_t days = (seconds + 8 * 3600) / 86400;
  return ledger::Date::FromDaysSinceEpoch(static_cast<int32_t>(days));
}

void RegisterQueryApi(Router& router, const QueryApiOptions& options) {
  HPF_ASSERT(options.runner != nullptr);
  auto api = std::make_shared<const Api>(Api{options});
  const auto get = [&router, api](std::string_view pattern, auto method) {
    router.Add(HttpMethod::kGet, pattern, Access::kRead,
               [api, method](RequestContext&& c, Reply r) { ((*api).*method)(std::move(c), r); });
  };
  get("/v1/accounts", &Api::ListAccounts);
  get("/v1/accounts/{id}", &Api::GetAccount);
  get("/v1/accounts/{id}/statement", &Api::GetStatement);
  get("/v1/employers", &Api::ListEmployers);
  get("/v1/employers/{id}", &Api::GetEmployer);
  get("/v1/fund/summary", &Api::GetFundSummary);
  get("/v1/audit/trial-balance", &Api::GetTrialBalance);
  get("/v1/audit/alerts", &Api::GetAlerts);
  get("/v1/audit/trail", &Api::GetAuditTrail);
}

Result<std::unique_ptr<Projector>> Projector::Start(const ProjectorOptions& options) {
  HPF_ASSERT(options.log != nullptr);
  HPF_ASSERT(!options.dir.empty());
  std::unique_ptr<Projector> projector(new Projector());
  HPF_ASSIGN_OR_RETURN(projector->store_, projections::ProjectionStore::Open({.dir = options.dir}));
  projector->source_ = std::make_unique<projections::LogSource>(*options.log);
  HPF_ASSIGN_OR_RETURN(projector->runner_,
                       projections::Runner::Create(
                           {.store = projector->store_.get(), .source = projector->source_.get()}));
  rm::ReadModelsOptions models_options;
  if (!options.personal_rate_table.empty()) {
    models_options.accounts.personal_rate_table.assign(options.personal_rate_table.begin(),
                                                       options.personal_rate_table.end());
  }
  HPF_ASSIGN_OR_RETURN(auto models, rm::CreateReadModels(std::move(models_options)));
  for (auto& model : models) HPF_RETURN_IF_ERROR(projector->runner_->Add(std::move(model)));
  HPF_RETURN_IF_ERROR(projector->runner_->Start());
  return projector;
}

Projector::~Projector() { Stop().IgnoreError(); }

Status Projector::Stop() {
  if (runner_ == nullptr) return Status::Ok();
  return runner_->Stop();
}

}  // namespace hpf::ledgerd
