// projections/read_models/arrears_alerts.h — the 催缴 list (DOMAIN §8): employers in arrears
// for 3 months or more as of a date, each citing the log positions its arrears rest on, for
// GET /v1/audit/alerts.
//
// Folding. Only employer streams matter (registration, deferrals, seal, reopening, closing,
// completed regular remittances), so each employer's state follows its own stream. Arrears
// depend on the date asked, not only on records, so the query computes them (arrears.h); the
// stored index orders employers by paid-up-to month, and a query reads only those paid up to a
// month early enough to be `months_min` behind.
//
// Stored form: "s/" + employer (u64) → its state; "i/" + paid-up-to month (u32) + employer →
// "" for every employer not closed.
// Thread safety: the projection object belongs to the runtime's thread; ArrearsAlerts() reads
// a ReadView and may run on any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ledger/calendar.h"
#include "projections/projection.h"
#include "projections/read_models/arrears.h"
#include "projections/read_models/employers.h"
#include "projections/read_models/page.h"

namespace hpf::projections::read_models {

// The DOMAIN §8 threshold.
inline constexpr uint32_t kArrearsAlertMonthsDefault = 3;
// A threshold beyond the calendar's 210 years means nothing.
inline constexpr uint32_t kArrearsAlertMonthsMax = 12 * 210;

class ArrearsAlertsProjection final : public Projection {
 public:
  std::string_view name() const override { return "arrears-alerts"; }
  uint32_t version() const override { return 1; }
  Status Load(const ReadView& stored) override;
  Status Apply(std::span<const SourcedRecord> records, ProjectionWriter& out) override;

  struct State {
    std::string name;
    EmployerStatus status = EmployerStatus::kNormal;
    uint32_t status_date = 0;       // yyyymmdd of the last seal, reopening or closing
    uint64_t status_position = 0;   // its record
    uint32_t paid_up_to_month = 0;  // yyyymm
    uint64_t paid_up_position = 0;  // the record that set it
    std::vector<DeferralGrant> deferrals;
    uint64_t stream_version = 0;
    uint32_t indexed_month = 0;  // in memory: the month of its index key, 0 if none
    uint64_t touched_batch = 0;  // in memory only
  };

 private:
  Status ApplyOne(const SourcedRecord& sourced);

  std::unordered_map<uint64_t, State> states_;
  uint64_t batch_ = 0;
  std::vector<uint64_t> touched_;
  std::string key_;
  std::string value_;
};

struct ArrearsAlert {
  uint64_t employer_id = 0;
  std::string name;
  EmployerStatus status = EmployerStatus::kNormal;
  ledger::Month paid_up_to_month;
  Arrears arrears;
  // The records behind it, in log order: the one that set the paid-up-to month (registration,
  // reopening or the last completed regular list), the seal that ended the months due, and the
  // deferral grants that excused months.
  std::vector<uint64_t> positions;
};

struct ArrearsAlertsRequest {
  ledger::Date as_of;
  uint32_t months_min = kArrearsAlertMonthsDefault;  // 1 .. kArrearsAlertMonthsMax
  PageRequest page;
};

// Employers at least `months_min` months in arrears as of `as_of`, the longest paid-up gap
// first (by paid-up-to month, then employer id). kInvalidArgument for a bad threshold or page.
Result<Page<ArrearsAlert>> ArrearsAlerts(const ReadView& view, const ArrearsAlertsRequest& request);

}  // namespace hpf::projections::read_models
