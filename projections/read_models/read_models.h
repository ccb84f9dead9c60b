// projections/read_models/read_models.h — every read model of the write model's facts, for
// the runtime to register in one call (ledgerd, ledger-bench rebuild, ledger-replay).
//
// | name             | header             | answers                                          |
// |------------------|--------------------|--------------------------------------------------|
// | accounts         | accounts.h         | /v1/accounts, /v1/accounts/{id}, interest to date |
// | statements       | statements.h       | /v1/accounts/{id}/statement                       |
// | employers        | employers.h        | /v1/employers, /v1/employers/{id}                 |
// | fund-summary     | fund_summary.h     | /v1/fund/summary                                  |
// | trial-balance    | trial_balance.h    | /v1/audit/trial-balance                           |
// | audit-trail      | audit_trail.h      | /v1/audit/trail                                   |
// | arrears-alerts   | arrears_alerts.h   | /v1/audit/alerts (催缴)                            |
// Thread safety: the function is pure; the projections belong to the runtime.
#pragma once

#include <memory>
#include <vector>

#include "events/status.h"
#include "projections/projection.h"
#include "projections/read_models/accounts.h"

namespace hpf::projections::read_models {

struct ReadModelsOptions {
  AccountsOptions accounts;
};

// One of each read model above, in that order. The accounts model's errors (a bad rate table).
Result<std::vector<std::unique_ptr<Projection>>> CreateReadModels(ReadModelsOptions options);

}  // namespace hpf::projections::read_models
