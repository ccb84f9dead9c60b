// tools/ledgerd/ledger_api.cc
#include "tools/ledgerd/ledger_api.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <variant>

#include <fmt/core.h>

#include "ledger/money.h"
#include "tools/ledgerd/auth.h"
#include "tools/ledgerd/charset.h"
#include "tools/ledgerd/command_decoder.h"
#include "tools/ledgerd/remittance_csv.h"

namespace hpf::ledgerd {

namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The media type of a Content-Type header, lower-case, without parameters.
std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  return Lower(type);
}

std::optional<InputError> RequireMediaType(std::string_view content_type,
                                           std::initializer_list<std::string_view> accepted,
                                           std::string_view example) {
  if (content_type.empty()) return std::nullopt;  // curl --data-binary without -H
  const std::string type = MediaType(content_type);
  for (const std::string_view ok : accepted) {
    if (type == ok) return std::nullopt;
  }
  return InputError{"unsupported_media_type",
                    fmt::format("Content-Type {} is not accepted here; send {}",
                                JsonQuote(type.substr(0, 64)), example)};
}

enum class Outcome : uint8_t { kAccepted, kDuplicate, kRejected, kFailed };

Outcome OutcomeOf(const ledger::CommandResult& result) {
  if (std::holds_alternative<ledger::CommandAccepted>(result)) return Outcome::kAccepted;
  if (std::holds_alternative<ledger::CommandDuplicate>(result)) return Outcome::kDuplicate;
  if (std::holds_alternative<ledger::CommandRejected>(result)) return Outcome::kRejected;
  return Outcome::kFailed;
}

struct Tally {
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t rejected = 0;
  uint64_t failed = 0;
  void Add(Outcome outcome) {
    switch (outcome) {
      case Outcome::kAccepted:
        ++accepted;
        break;
      case Outcome::kDuplicate:
        ++duplicates;
        break;
      case Outcome::kRejected:
        ++rejected;
        break;
      case Outcome::kFailed:
        ++failed;
        break;
    }
  }
};

// A failed command means the sequencer stopped: its outcome is unknown (resubmit later).
HttpResponse WithFailure(HttpResponse response, const Tally& tally) {
  if (tally.failed > 0) response.status = 503;
  return response;
}

// "yyyymmdd": the form only; the ledger checks the calendar.
std::optional<uint32_t> ParseDate(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  uint32_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  const uint32_t month = value / 100 % 100;
  const uint32_t day = value % 100;
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  return value;
}

struct Api {
  LedgerApiOptions options;

  // ------------------------------------------------------------ POST /v1/commands
  void PostCommands(RequestContext&& context, const Reply& reply) const {
    const HttpRequest& request = context.request;
    const QueryParams query(request);
    bool atomic = false;
    if (auto error = query.Check({"atomic"})) return reply(JsonError(400, *error));
    if (auto error = query.GetBool("atomic", &atomic)) return reply(JsonError(400, *error));
    if (auto error =
            RequireMediaType(request.content_type, {"application/json"}, "application/json")) {
      return reply(JsonError(415, *error));
    }
    auto decoded = DecodeCommands(request.body);
    if (auto* error = std::get_if<InputError>(&decoded)) {
      return reply(JsonError(error->code == "too_many_commands" ? 413 : 400, *error));
    }
    auto& commands = std::get<std::vector<ledger::Command>>(decoded);
    for (size_t i = 0; i < commands.size(); ++i) {
      if (auto error = AuthorizeCommand(context.principal, commands[i])) {
        error->message = fmt::format("commands[{}] ({}): {}", i, CommandTypeName(commands[i].body),
                                     error->message);
        return reply(JsonError(403, *error));
      }
    }
    const ledger::SubmitOptions submit{.atomicity = atomic ? ledger::Atomicity::kAllOrNone
                                                           : ledger::Atomicity::kEachOnItsOwn};
    options.ingestor->Submit(
        std::move(commands),
        [reply](std::vector<ledger::CommandResult> r) {
          Tally tally;
          std::string body = "{\"results\":[";
          body.reserve(r.size() * 48 + 128);
          for (size_t i = 0; i < r.size(); ++i) {
            if (i > 0) body += ',';
            body += CommandResultJson(r[i]);
            tally.Add(OutcomeOf(r[i]));
          }
          body += fmt::format("],\"accepted\":{},\"duplicates\":{},\"rejected\":{},\"failed\":{}}}",
                              tally.accepted, tally.duplicates, tally.rejected, tally.failed);
          reply(WithFailure(HttpResponse{.status = 200, .body = std::move(body)}, tally));
        },
        submit);
  }

  // ------------------------------------------------------------ POST /v1/bank-files/{kind}
  void PostBankFile(RequestContext&& context, const Reply& reply) const {
    const HttpRequest& request = context.request;
    const std::string_view kind = request.PathParam("kind");
    if (kind != "remittance") {
      return reply(JsonError(
          404, "unknown_bank_file_kind",
          fmt::format("no bank file kind {}; kinds: remittance", JsonQuote(kind.substr(0, 64)))));
    }
    const QueryParams query(request);
    if (auto error = query.Check({"mode", "effective_date"})) {
      return reply(JsonError(400, *error));
    }
    const std::string mode(query.Get("mode").value_or("accept-valid"));
    if (mode != "accept-valid" && mode != "all-or-nothing") {
      return reply(JsonError(400, "invalid_query_parameter",
                             fmt::format("mode must be accept-valid or all-or-nothing, not {}",
                                         JsonQuote(mode.substr(0, 64)))));
    }
    const auto date_text = query.Get("effective_date");
    const auto date = date_text.has_value() ? ParseDate(*date_text) : std::nullopt;
    if (!date.has_value()) {
      return reply(JsonError(400, "invalid_query_parameter",
                             "effective_date=yyyymmdd is required: the value date of the "
                             "list's contributions"));
    }
    if (auto error =
            RequireMediaType(request.content_type, {"text/csv", "application/csv", "text/plain"},
                             "text/csv; charset=UTF-8 or text/csv; charset=GB18030")) {
      return reply(JsonError(415, *error));
    }
    const auto charset = CharsetOfContentType(request.content_type);
    if (const auto* error = std::get_if<InputError>(&charset)) {
      return reply(JsonError(415, *error));
    }
    auto text = ToUtf8(request.body, std::get<Charset>(charset));
    if (auto* error = std::get_if<InputError>(&text)) return reply(JsonError(400, *error));
    auto parsed = ParseRemittanceCsv(std::get<std::string>(text));
    if (auto* error = std::get_if<InputError>(&parsed)) {
      return reply(JsonError(error->code == "csv_too_many_lines" ? 413 : 400, *error));
    }
    auto file = std::make_shared<RemittanceFile>(std::move(std::get<RemittanceFile>(parsed)));
    if (file->detail_lines == 0) {
      return reply(JsonError(400, "csv_empty", "the file has a header but no lines"));
    }
    const bool all_or_nothing = mode == "all-or-nothing";
    if (all_or_nothing && !file->errors.empty()) {
      return reply(FileResponse(422, mode, *file, nullptr, {}));
    }
    if (file->lines.empty()) {
      return reply(FileResponse(422, mode, *file, nullptr, {}));
    }
    auto plan = std::make_shared<RemittancePlan>(PlanRemittance(*file, *date));
    for (ledger::Command& command : plan->commands) {
      if (auto error = AuthorizeCommand(context.principal, command)) {
        return reply(JsonError(403, *error));
      }
    }
    std::vector<ledger::Command> commands = std::move(plan->commands);
    plan->commands.clear();
    // All or nothing: the whole file's commands are one all-or-none list.
    options.ingestor->Submit(std::move(commands),
                             [reply, file, plan, mode](std::vector<ledger::CommandResult> r) {
                               reply(FileResponse(200, mode, *file, plan.get(), r));
                             },
                             {.atomicity = all_or_nothing ? ledger::Atomicity::kAllOrNone
                                                          : ledger::Atomicity::kEachOnItsOwn});
  }

  // The per-line answer of a bank file; `plan` is null when nothing was submitted.
  static HttpResponse FileResponse(unsigned status, std::string_view mode,
                                   const RemittanceFile& file, const RemittancePlan* plan,
                                   const std::vector<ledger::CommandResult>& results) {
    struct Item {
      size_t line;
      std::string json;
    };
    std::vector<Item> items;
    items.reserve(file.detail_lines);
    Tally tally;
    uint64_t invalid = 0;
    for (const LineError& error : file.errors) {
      ++invalid;
      items.push_back({error.line, fmt::format("{{\"line\":{},\"status\":\"invalid\",\"code\":{},"
                                               "\"message\":{}}}",
                                               error.line, JsonQuote(error.error.code),
                                               JsonQuote(error.error.message))});
    }
    uint64_t not_submitted = 0;
    for (size_t i = 0; i < file.lines.size(); ++i) {
      const RemittanceLine& line = file.lines[i];
      if (plan == nullptr) {
        ++not_submitted;
        items.push_back(
            {line.line, fmt::format("{{\"line\":{},\"status\":\"not_submitted\"}}", line.line)});
        continue;
      }
      const ledger::CommandResult& result = results[plan->lines[i].command];
      tally.Add(OutcomeOf(result));
      std::string json = CommandResultJson(result);
      json.insert(1, fmt::format("\"line\":{},", line.line));
      items.push_back({line.line, std::move(json)});
    }
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return a.line < b.line; });
    std::string body = fmt::format("{{\"mode\":{},\"lines\":[", JsonQuote(mode));
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) body += ',';
      body += items[i].json;
    }
    body += "],\"lists\":[";
    if (plan != nullptr) {
      for (size_t i = 0; i < plan->lists.size(); ++i) {
        const RemittancePlan::List& list = plan->lists[i];
        const ledger::CommandResult& open = results[list.open_command];
        const ledger::CommandResult& complete = results[list.complete_command];
        const Outcome opened = OutcomeOf(open);
        const Outcome completed = OutcomeOf(complete);
        std::string_view state = "not_opened";
        if (completed == Outcome::kAccepted || completed == Outcome::kDuplicate) {
          state = "completed";
        } else if (opened == Outcome::kAccepted || opened == Outcome::kDuplicate) {
          state = "open";
        }
        if (i > 0) body += ',';
        body += fmt::format(
            "{{\"employer\":{},\"list\":{},\"lines\":{},\"total_fen\":{},\"total_yuan\":\"{}\","
            "\"status\":\"{}\",\"open\":{},\"complete\":{}}}",
            list.employer.value, list.list, list.lines, list.total.value,
            ledger::FormatYuan(list.total), state, CommandResultJson(open),
            CommandResultJson(complete));
      }
    }
    body += fmt::format(
        "],\"summary\":{{\"lines\":{},\"accepted\":{},\"duplicates\":{},\"rejected\":{},"
        "\"invalid\":{},\"not_submitted\":{},\"failed\":{}}}}}",
        file.detail_lines, tally.accepted, tally.duplicates, tally.rejected, invalid, not_submitted,
        tally.failed);
    // A failed command anywhere (also an open or a complete) means the outcome is unknown.
    Tally all;
    for (const auto& result : results) all.Add(OutcomeOf(result));
    return WithFailure(HttpResponse{.status = status, .body = std::move(body)}, all);
  }

  // ------------------------------------------------------------ GET /v1/log/head
  void GetLogHead(RequestContext&& context, const Reply& reply) const {
    if (auto error = QueryParams(context.request).Check({})) return reply(JsonError(400, *error));
    const events::HeadDigest head = options.log->head();
    HttpResponse response{
        .status = 200,
        .body = fmt::format(
            "{{\"position\":{},\"hash\":\"{}\",\"digest\":\"{}\",\"hash_algorithm\":\"{}\"}}",
            head.position.value, events::ToHex(head.hash), events::FormatHeadDigest(head),
            events::HashAlgorithmName(options.log->hash_algorithm()))};
    response.headers.emplace_back("X-Ledger-Position", std::to_string(head.position.value));
    reply(std::move(response));
  }

  // ------------------------------------------------------------ GET /healthz
  void GetHealth(RequestContext&& context, const Reply& reply) const {
    if (auto error = QueryParams(context.request).Check({})) return reply(JsonError(400, *error));
    const Status health = options.sequencer->health();
    const uint64_t position = options.log->head().position.value;
    HttpResponse response;
    if (health.ok()) {
      response.body = fmt::format("{{\"status\":\"ok\",\"position\":{}}}", position);
    } else {
      response.status = 503;
      response.body = fmt::format(
          "{{\"status\":\"failing\",\"position\":{},\"error\":{{\"code\":{},\"message\":{}}}}}",
          position, JsonQuote(Lower(StatusCodeName(health.code()))), JsonQuote(health.message()));
    }
    response.headers.emplace_back("X-Ledger-Position", std::to_string(position));
    reply(std::move(response));
  }

  // ------------------------------------------------------------ GET /metrics
  void GetMetrics(RequestContext&& context, const Reply& reply) const {
    if (auto error = QueryParams(context.request).Check({})) return reply(JsonError(400, *error));
    std::string text = options.metrics->Render();
    const events::EventLogStats stats = options.log->stats();
    const auto gauge = [&text](std::string_view name, std::string_view help, std::string_view type,
                               double value) {
      text +=
          fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
    };
    gauge("hpf_log_head_position", "The last committed position of the log.", "gauge",
          static_cast<double>(options.log->head().position.value));
    gauge("hpf_log_groups_total", "Group commits since ledgerd started.", "counter",
          static_cast<double>(stats.groups));
    gauge("hpf_log_records_total", "Records appended since ledgerd started.", "counter",
          static_cast<double>(stats.records));
    gauge("hpf_log_group_records_average",
          "Records per group commit since ledgerd started (the group size).", "gauge",
          stats.groups == 0
              ? 0.0
              : static_cast<double>(stats.records) / static_cast<double>(stats.groups));
    gauge("hpf_sequencer_up", "1 while the sequencer accepts commands, 0 after a failure.", "gauge",
          options.sequencer->health().ok() ? 1.0 : 0.0);
    if (options.extra_metrics) text += options.extra_metrics();
    reply(HttpResponse{.status = 200,
                       .content_type = "text/plain; version=0.0.4; charset=utf-8",
                       .body = std::move(text),
                       .headers = {}});
  }

  // ------------------------------------------------------------ GET /v1/openapi.json
  void GetOpenApi(RequestContext&& context, const Reply& reply) const {
    if (auto error = QueryParams(context.request).Check({})) return reply(JsonError(400, *error));
    reply(HttpResponse{.status = 200, .body = std::string(options.openapi_json)});
  }
};

}  // namespace

std::string CommandResultJson(const ledger::CommandResult& result) {
  if (const auto* accepted = std::get_if<ledger::CommandAccepted>(&result)) {
    return fmt::format("{{\"status\":\"accepted\",\"position\":{}}}", accepted->position.value);
  }
  if (const auto* duplicate = std::get_if<ledger::CommandDuplicate>(&result)) {
    return fmt::format("{{\"status\":\"duplicate\",\"position\":{}}}", duplicate->position.value);
  }
  if (const auto* rejected = std::get_if<ledger::CommandRejected>(&result)) {
    return fmt::format("{{\"status\":\"rejected\",\"code\":{},\"message\":{}}}",
                       JsonQuote(ledger::RejectionCode(rejected->detail.rejection)),
                       JsonQuote(rejected->detail.message));
  }
  const Status& status = std::get<ledger::CommandFailed>(result).status;
  return fmt::format("{{\"status\":\"failed\",\"code\":{},\"message\":{}}}",
                     JsonQuote(Lower(StatusCodeName(status.code()))), JsonQuote(status.message()));
}

void RegisterLedgerApi(Router& router, const LedgerApiOptions& options) {
  HPF_ASSERT(options.log != nullptr);
  HPF_ASSERT(options.sequencer != nullptr);
  HPF_ASSERT(options.ingestor != nullptr);
  HPF_ASSERT(options.metrics != nullptr);
  auto api = std::make_shared<const Api>(Api{options});
  router.Add(HttpMethod::kPost, "/v1/commands", Access::kPostCommands,
             [api](RequestContext&& c, Reply r) { api->PostCommands(std::move(c), r); });
  router.Add(HttpMethod::kPost, "/v1/bank-files/{kind}", Access::kPostBankFiles,
             [api](RequestContext&& c, Reply r) { api->PostBankFile(std::move(c), r); });
  router.Add(HttpMethod::kGet, "/v1/log/head", Access::kRead,
             [api](RequestContext&& c, Reply r) { api->GetLogHead(std::move(c), r); });
  router.Add(HttpMethod::kGet, "/healthz", Access::kPublic,
             [api](RequestContext&& c, Reply r) { api->GetHealth(std::move(c), r); });
  router.Add(HttpMethod::kGet, "/metrics", Access::kPublic,
             [api](RequestContext&& c, Reply r) { api->GetMetrics(std::move(c), r); });
  router.Add(HttpMethod::kGet, "/v1/openapi.json", Access::kPublic,
             [api](RequestContext&& c, Reply r) { api->GetOpenApi(std::move(c), r); });
}

}  // namespace hpf::ledgerd
