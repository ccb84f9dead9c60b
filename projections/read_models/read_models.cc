// projections/read_models/read_models.cc
#include "projections/read_models/read_models.h"

#include <utility>

#include "projections/read_models/arrears_alerts.h"
#include "projections/read_models/audit_trail.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/fund_summary.h"
#include "projections/read_models/statements.h"
#include "projections/read_models/trial_balance.h"

namespace hpf::projections::read_models {

Result<std::vector<std::unique_ptr<Projection>>> CreateReadModels(ReadModelsOptions options) {
  std::vector<std::unique_ptr<Projection>> models;
  HPF_ASSIGN_OR_RETURN(std::unique_ptr<AccountsProjection> accounts,
                       AccountsProjection::Create(std::move(options.accounts)));
  models.push_back(std::move(accounts));
  models.push_back(std::make_unique<StatementsProjection>());
  models.push_back(std::make_unique<EmployersProjection>());
  models.push_back(std::make_unique<FundSummaryProjection>());
  models.push_back(std::make_unique<TrialBalanceProjection>());
  models.push_back(std::make_unique<AuditTrailProjection>());
  models.push_back(std::make_unique<ArrearsAlertsProjection>());
  return models;
}

}  // namespace hpf::projections::read_models
