// tools/ledgerd/ledger_api.h — the endpoints of DESIGN §4 built so far, registered on a Router:
//
//   POST /v1/commands                  commands, per-command results      (docs/commands.md)
//   POST /v1/bank-files/{kind}         a bank's CSV file, per-line results (docs/bank-files.md)
//   GET  /v1/log/head                  the head digest an auditor keeps
//   GET  /healthz, /metrics, /v1/openapi.json
//
// Handlers decode and authorise on the I/O thread and hand commands to the Ingestor; the
// answer is written when the sequencer's results are durable. Every refusal is a JSON error
// (http_types.h) and writes nothing.
// Thread safety: the handlers run on any I/O thread; everything borrowed must outlive the
// router.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "events/event_log.h"
#include "ledger/sequencer.h"
#include "tools/ledgerd/ingest.h"
#include "tools/ledgerd/metrics.h"
#include "tools/ledgerd/router.h"

namespace hpf::ledgerd {

struct LedgerApiOptions {
  events::EventLog* log = nullptr;         // required: the head and the log's counters
  ledger::Sequencer* sequencer = nullptr;  // required: health
  Ingestor* ingestor = nullptr;            // required
  Metrics* metrics = nullptr;              // required
  std::string_view openapi_json;           // served as GET /v1/openapi.json; must outlive
  // More Prometheus text for /metrics (publisher and projection lag, once they run); may be
  // empty.
  std::function<std::string()> extra_metrics;
};

// REQUIRES: the required options are set.
void RegisterLedgerApi(Router& router, const LedgerApiOptions& options);

// The JSON of one command's result: {"status":"accepted","position":N} | {"status":
// "duplicate","position":N} | {"status":"rejected","code":…,"message":…} | {"status":
// "failed","code":…,"message":…} (the outcome is unknown: resubmit, DESIGN §4).
std::string CommandResultJson(const ledger::CommandResult& result);

}  // namespace hpf::ledgerd
