// tools/ledgerd/query_api.h — the read models' query endpoints of DESIGN §4, registered on a
// Router, and the projections ledgerd runs in-process to answer them:
//
//   GET /v1/accounts?employer=&status=&limit=&after=          accounts (ListAccounts)
//   GET /v1/accounts/{id}                                     one account (GetAccount)
//   GET /v1/accounts/{id}/statement?from=&to=&limit=&after=   its statement (Statement)
//   GET /v1/employers?status=&as_of=&limit=&after=            employers (ListEmployers)
//   GET /v1/employers/{id}?as_of=                             one employer (GetEmployer)
//   GET /v1/fund/summary?as_of=&from=&to=                     the fund (ReadFundSummary)
//   GET /v1/audit/trial-balance                               试算平衡 (ReadTrialBalance)
//   GET /v1/audit/alerts?as_of=&months_min=&limit=&after=     催缴 (ArrearsAlerts)
//   GET /v1/audit/trail?actor=&account=&employer=&from=&to=&limit=&after=   (AuditTrail)
//
// Every answer is read from ONE projection's snapshot and carries `X-Ledger-Position`: every
// record at or below it is reflected. `?min_position=N` (any route) first waits until that
// projection has applied N, at most kQueryWaitMax, and otherwise answers 503
// `projection_behind` (nothing is held longer). Amounts are int64 fen (`*_fen`) with a yuan
// string beside them (`*_yuan`: "1234.56"); dates are "yyyy-mm-dd", months "yyyy-mm". Lists
// answer {"items":[…],"next":"cursor"|null}. Bad parameters are 400 with the parameter named,
// an unknown id 404. Readers are operators, reviewers, auditors and admins (Access::kRead);
// banks read nothing here (docs/api/README.md says why).
//
// Thread safety: handlers run on any I/O thread; the runner must outlive the router. A
// Projector is used from one thread (start, stop); its runner() from any.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "events/event_log.h"
#include "events/status.h"
#include "ledger/calendar.h"
#include "ledger/interest.h"
#include "projections/log_source.h"
#include "projections/projection_store.h"
#include "projections/runtime.h"
#include "tools/ledgerd/router.h"

namespace hpf::ledgerd {

// The longest a query waits for ?min_position: long enough for the projections to apply a
// large group commit under load (they fold ~1 M records/s), short enough that a client asking
// for a position that will not come soon is told so instead of holding a connection.
inline constexpr std::chrono::milliseconds kQueryWaitMax{5000};

struct QueryApiOptions {
  const projections::Runner* runner = nullptr;  // required: every read model of read_models.h
  // Today's date, the default of `as_of`. Empty: the system clock in China Standard Time
  // (UTC+8, where the fund centre keeps its books).
  std::function<ledger::Date()> today;
};

// REQUIRES: options.runner is set.
void RegisterQueryApi(Router& router, const QueryApiOptions& options);

// Today in UTC+8 from the system clock.
ledger::Date TodayInChina();

struct ProjectorOptions {
  const events::EventLog* log = nullptr;  // required; must outlive the projector
  std::string dir;                        // required: the projections' store (created)
  // The ledger's personal rate table (PolicyBook::personal_rate_table()): the accounts model
  // checks year-end credits against it.
  std::span<const ledger::RateSegment> personal_rate_table;
};

// The projections as ledgerd runs them: a ProjectionStore in its own directory, the LogSource
// over ledgerd's own log, and a Runner with every read model (CreateReadModels()).
class Projector {
 public:
  // Opens the store, registers the read models and starts the runner. Errors of the store,
  // the read models (a bad rate table) and the runner's initial loading.
  static Result<std::unique_ptr<Projector>> Start(const ProjectorOptions& options);
  ~Projector();  // Stop(); its error is the runner's, seen in runner().stats()
  Projector(const Projector&) = delete;
  Projector& operator=(const Projector&) = delete;

  const projections::Runner& runner() const { return *runner_; }
  projections::Runner& runner() { return *runner_; }
  // Stops the runner (the round in progress is committed or dropped whole); returns the error
  // that had stopped it, if any. Idempotent. The log may be closed afterwards.
  Status Stop();

 private:
  Projector() = default;
  std::unique_ptr<projections::ProjectionStore> store_;
  std::unique_ptr<projections::LogSource> source_;
  std::unique_ptr<projections::Runner> runner_;
};

}  // namespace hpf::ledgerd
