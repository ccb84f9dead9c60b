// ledger/policy.cc
#include "ledger/policy.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <fmt/core.h>

#include "ledger/limits.h"

namespace hpf::ledger {

namespace {

// Checks a loan rate table as ParsePolicy receives it; names the first bad entry.
Status ValidateLoanRates(std::span<const LoanRates> table) {
  if (table.empty()) return InvalidArgumentError("holds no entry");
  if (table.size() > kRateTableEntriesMax) {
    return InvalidArgumentError(fmt::format("holds at most {} entries", kRateTableEntriesMax));
  }
  for (size_t i = 0; i < table.size(); ++i) {
    const LoanRates& entry = table[i];
    for (const RatePpm rate : {entry.first_home_short, entry.first_home_long,
                               entry.second_home_short, entry.second_home_long}) {
      if (rate.value > kRatePpmMax) {
        return InvalidArgumentError(fmt::format("[{}]: a rate above {} ppm", i, kRatePpmMax));
      }
    }
    if (i > 0 && !(table[i - 1].from < entry.from)) {
      return InvalidArgumentError(fmt::format("[{}].from: must be later than the entry before", i));
    }
  }
  return Status::Ok();
}

}  // namespace

PolicyBook::PolicyBook(std::vector<Policy> versions, std::vector<RateSegment> personal_rate_table,
                       std::vector<LoanRates> loan_rates)
    : versions_(std::move(versions)),
      personal_rate_table_(std::move(personal_rate_table)),
      loan_rates_(std::move(loan_rates)) {
  HPF_ASSERT(!versions_.empty());
  for (size_t i = 1; i < versions_.size(); ++i) {
    HPF_ASSERT(versions_[i - 1].effective_from < versions_[i].effective_from);
  }
  HPF_ASSERT(ValidateRateTable(personal_rate_table_).ok());
  HPF_ASSERT(ValidateLoanRates(loan_rates_).ok());
}

std::vector<LoanRates> PolicyBook::DefaultLoanRates() {
  return {
      {Date::FromYyyymmdd(19900101).value(), RatePpm{27'500}, RatePpm{32'500}, RatePpm{30'250},
       RatePpm{35'750}},
      {Date::FromYyyymmdd(20221001).value(), RatePpm{26'000}, RatePpm{31'000}, RatePpm{30'250},
       RatePpm{35'750}},
  };
}

std::vector<RateSegment> PolicyBook::DefaultPersonalRates() {
  return {
      {Date::FromYyyymmdd(19900101).value(), RatePpm{11'000}},
      {Date::FromYyyymmdd(20160221).value(), RatePpm{15'000}},
  };
}

const Policy& PolicyBook::At(Date date) const {
  auto after = std::upper_bound(versions_.begin(), versions_.end(), date,
                                [](Date d, const Policy& p) { return d < p.effective_from; });
  return after == versions_.begin() ? versions_.front() : *(after - 1);
}

PolicyBook DefaultPolicy() {
  Policy policy;
  policy.effective_from = Date::FromYyyymmdd(19900101).value();
  policy.deferral_last_month = Month::FromYyyymm(202212).value();
  return PolicyBook({policy});
}

namespace {

namespace json = boost::json;

// Reads typed fields of one JSON object, remembering which it used so that the rest can be
// reported as unknown. Errors name the path ("versions[1].base_cap_fen").
class Fields {
 public:
  Fields(const json::object& object, std::string path) : object_(object), path_(std::move(path)) {}

  Result<int64_t> Integer(std::string_view name, int64_t min, int64_t max) {
    HPF_ASSIGN_OR_RETURN(const json::value* value, Required(name));
    if (!value->is_int64() && !value->is_uint64()) {
      return Error(name, "must be an integer");
    }
    if (value->is_uint64() && value->get_uint64() > static_cast<uint64_t>(INT64_MAX)) {
      return Error(name, fmt::format("must be between {} and {}", min, max));
    }
    const int64_t number =
        value->is_int64() ? value->get_int64() : static_cast<int64_t>(value->get_uint64());
    if (number < min || number > max) {
      return Error(name, fmt::format("must be between {} and {}, got {}", min, max, number));
    }
    return number;
  }

  // A field added after documents were first recorded: absent, it has the value every
  // document recorded before it meant (`absent`); present, it is checked as Integer().
  Result<int64_t> IntegerAddedLater(std::string_view name, int64_t min, int64_t max,
                                    int64_t absent) {
    if (!object_.contains(name)) return absent;
    return Integer(name, min, max);
  }

  Result<bool> BoolAddedLater(std::string_view name, bool absent) {
    if (!object_.contains(name)) return absent;
    HPF_ASSIGN_OR_RETURN(const json::value* value, Required(name));
    if (!value->is_bool()) return Error(name, "must be true or false");
    return value->get_bool();
  }

  // An array added after documents were first recorded: null when absent.
  Result<const json::array*> ArrayAddedLater(std::string_view name) {
    if (!object_.contains(name)) return nullptr;
    return Array(name);
  }

  Result<std::string> Text(std::string_view name) {
    HPF_ASSIGN_OR_RETURN(const json::value* value, Required(name));
    if (!value->is_string()) return Error(name, "must be a string");
    return std::string(value->get_string());
  }

  Result<Date> IsoDate(std::string_view name) {
    HPF_ASSIGN_OR_RETURN(const std::string text, Text(name));
    auto date = Date::ParseIso(text);
    if (!date.has_value()) return Error(name, date.error().message());
    return *date;
  }

  Result<const json::array*> Array(std::string_view name) {
    HPF_ASSIGN_OR_RETURN(const json::value* value, Required(name));
    if (!value->is_array() || value->get_array().empty()) {
      return Error(name, "must be a non-empty array");
    }
    return &value->get_array();
  }

  // Every field of the object was read; anything else is a typo or a field of a newer build.
  Status NoOthers() const {
    for (const auto& entry : object_) {
      if (!used_.contains(std::string(entry.key()))) {
        return InvalidArgumentError(
            fmt::format("{}.{}: unknown field", path_, std::string_view(entry.key())));
      }
    }
    return Status::Ok();
  }

  Status Error(std::string_view name, std::string_view rule) const {
    return InvalidArgumentError(fmt::format("{}.{}: {}", path_, name, rule));
  }

 private:
  Result<const json::value*> Required(std::string_view name) {
    used_.insert(std::string(name));
    const json::value* value = object_.if_contains(name);
    if (value == nullptr) return Error(name, "is missing");
    return value;
  }

  const json::object& object_;
  std::string path_;
  std::set<std::string> used_;
};

Result<RoundingRule> ParseRounding(Fields& fields) {
  HPF_ASSIGN_OR_RETURN(const std::string name, fields.Text("rounding"));
  if (name == "half_up_to_fen") return RoundingRule::kHalfUpToFen;
  if (name == "half_up_to_yuan") return RoundingRule::kHalfUpToYuan;
  if (name == "up_to_yuan") return RoundingRule::kUpToYuan;
  return fields.Error("rounding", "must be half_up_to_fen, half_up_to_yuan or up_to_yuan");
}

Result<Policy> ParseVersion(const json::value& value, const std::string& path) {
  if (!value.is_object()) return InvalidArgumentError(path + ": must be an object");
  Fields fields(value.get_object(), path);
  Policy policy;
  HPF_ASSIGN_OR_RETURN(policy.effective_from, fields.IsoDate("effective_from"));
  const int64_t rate_max = kRatePpmMax;
  HPF_ASSIGN_OR_RETURN(const int64_t rate_min,
                       fields.Integer("contribution_rate_min_ppm", 1, rate_max));
  HPF_ASSIGN_OR_RETURN(const int64_t rate_top,
                       fields.Integer("contribution_rate_max_ppm", 1, rate_max));
  if (rate_min > rate_top) {
    return fields.Error("contribution_rate_min_ppm", "must not exceed contribution_rate_max_ppm");
  }
  policy.contribution_rate_min = RatePpm{static_cast<uint32_t>(rate_min)};
  policy.contribution_rate_max = RatePpm{static_cast<uint32_t>(rate_top)};
  HPF_ASSIGN_OR_RETURN(const int64_t floor,
                       fields.Integer("base_floor_fen", 1, kCommandAmountFenMax));
  HPF_ASSIGN_OR_RETURN(const int64_t cap, fields.Integer("base_cap_fen", 1, kCommandAmountFenMax));
  if (floor > cap) return fields.Error("base_floor_fen", "must not exceed base_cap_fen");
  policy.base_floor = Fen{floor};
  policy.base_cap = Fen{cap};
  HPF_ASSIGN_OR_RETURN(policy.rounding, ParseRounding(fields));
  HPF_ASSIGN_OR_RETURN(const int64_t deferral,
                       fields.Integer("deferral_last_month", kMonthYyyymmMin, kMonthYyyymmMax));
  auto month = Month::FromYyyymm(static_cast<uint32_t>(deferral));
  if (!month.has_value()) return fields.Error("deferral_last_month", month.error().message());
  policy.deferral_last_month = *month;
  HPF_ASSIGN_OR_RETURN(const int64_t days, fields.Integer("day_basis", 360, 365));
  auto basis = DayBasisFromDays(static_cast<uint16_t>(days));
  if (!basis.has_value()) return fields.Error("day_basis", "must be 360 or 365");
  policy.day_basis = *basis;
  HPF_ASSIGN_OR_RETURN(const int64_t review_days,
                       fields.IntegerAddedLater("withdrawal_review_days", 1, 366, 3));
  policy.withdrawal_review_days = static_cast<uint32_t>(review_days);
  // Part 2's parameters (withdrawals, loans, value-added income): added later, so a document
  // recorded before them means DOMAIN's figures, which Policy's defaults are.
  const Policy defaults;
  HPF_ASSIGN_OR_RETURN(const int64_t rent_cap,
                       fields.IntegerAddedLater("rent_withdrawal_cap_fen", 0, kCommandAmountFenMax,
                                                defaults.rent_withdrawal_cap.value));
  policy.rent_withdrawal_cap = Fen{rent_cap};
  HPF_ASSIGN_OR_RETURN(policy.flexible_employment,
                       fields.BoolAddedLater("flexible_employment", defaults.flexible_employment));
  HPF_ASSIGN_OR_RETURN(const int64_t term, fields.IntegerAddedLater("loan_term_months_max", 1, 360,
                                                                    defaults.loan_term_months_max));
  policy.loan_term_months_max = static_cast<uint32_t>(term);
  HPF_ASSIGN_OR_RETURN(const int64_t penalty,
                       fields.IntegerAddedLater("loan_penalty_multiplier_ppm", 1'300'000, 1'500'000,
                                                defaults.loan_penalty_multiplier.value));
  policy.loan_penalty_multiplier = RatePpm{static_cast<uint32_t>(penalty)};
  HPF_ASSIGN_OR_RETURN(
      policy.loan_overdue_exemption,
      fields.BoolAddedLater("loan_overdue_exemption", defaults.loan_overdue_exemption));
  const int64_t share_max = kRatePpmMax;
  HPF_ASSIGN_OR_RETURN(const int64_t reserve,
                       fields.IntegerAddedLater("distribution_risk_reserve_ppm", 0, share_max,
                                                defaults.distribution_risk_reserve.value));
  HPF_ASSIGN_OR_RETURN(const int64_t management,
                       fields.IntegerAddedLater("distribution_management_ppm", 0, share_max,
                                                defaults.distribution_management.value));
  HPF_ASSIGN_OR_RETURN(const int64_t housing,
                       fields.IntegerAddedLater("distribution_housing_ppm", 0, share_max,
                                                defaults.distribution_housing.value));
  if (reserve + management + housing != share_max) {
    return fields.Error("distribution_risk_reserve_ppm",
                        "the three distribution shares must sum to 1000000 ppm");
  }
  policy.distribution_risk_reserve = RatePpm{static_cast<uint32_t>(reserve)};
  policy.distribution_management = RatePpm{static_cast<uint32_t>(management)};
  policy.distribution_housing = RatePpm{static_cast<uint32_t>(housing)};
  HPF_RETURN_IF_ERROR(fields.NoOthers());
  return policy;
}

}  // namespace

Result<PolicyBook> ParsePolicy(std::string_view text) {
  boost::system::error_code ec;
  json::value document = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return InvalidArgumentError(fmt::format("policy: not JSON: {}", ec.message()));
  if (!document.is_object()) return InvalidArgumentError("policy: must be a JSON object");
  Fields top(document.get_object(), "policy");
  HPF_ASSIGN_OR_RETURN(const json::array* versions_json, top.Array("versions"));
  if (versions_json->size() > kPolicyVersionsMax) {
    return top.Error("versions", fmt::format("holds at most {} versions", kPolicyVersionsMax));
  }
  std::vector<Policy> versions;
  for (size_t i = 0; i < versions_json->size(); ++i) {
    HPF_ASSIGN_OR_RETURN(Policy version,
                         ParseVersion((*versions_json)[i], fmt::format("policy.versions[{}]", i)));
    if (!versions.empty() && !(versions.back().effective_from < version.effective_from)) {
      return InvalidArgumentError(fmt::format(
          "policy.versions[{}].effective_from: must be later than the version before it", i));
    }
    versions.push_back(version);
  }
  HPF_ASSIGN_OR_RETURN(const json::array* rates_json, top.Array("personal_rates"));
  if (rates_json->size() > kRateTableEntriesMax) {
    return top.Error("personal_rates",
                     fmt::format("holds at most {} entries", kRateTableEntriesMax));
  }
  std::vector<RateSegment> rates;
  for (size_t i = 0; i < rates_json->size(); ++i) {
    const std::string path = fmt::format("policy.personal_rates[{}]", i);
    if (!(*rates_json)[i].is_object()) return InvalidArgumentError(path + ": must be an object");
    Fields fields((*rates_json)[i].get_object(), path);
    HPF_ASSIGN_OR_RETURN(const Date from, fields.IsoDate("from"));
    HPF_ASSIGN_OR_RETURN(const int64_t rate, fields.Integer("rate_ppm", 0, kRatePpmMax));
    HPF_RETURN_IF_ERROR(fields.NoOthers());
    rates.push_back(RateSegment{from, RatePpm{static_cast<uint32_t>(rate)}});
  }
  if (Status status = ValidateRateTable(rates); !status.ok()) {
    return InvalidArgumentError("policy.personal_rates: " + status.message());
  }
  if (rates.front().from > Date::FromYyyymmdd(kDateYyyymmddMin).value()) {
    return top.Error("personal_rates", "must start on 1990-01-01, the first supported date");
  }
  // Added later: a document without it means the shipped table.
  HPF_ASSIGN_OR_RETURN(const json::array* loans_json, top.ArrayAddedLater("loan_rates"));
  std::vector<LoanRates> loans;
  if (loans_json == nullptr) {
    loans = PolicyBook::DefaultLoanRates();
  } else {
    if (loans_json->size() > kRateTableEntriesMax) {
      return top.Error("loan_rates", fmt::format("holds at most {} entries", kRateTableEntriesMax));
    }
    for (size_t i = 0; i < loans_json->size(); ++i) {
      const std::string path = fmt::format("policy.loan_rates[{}]", i);
      if (!(*loans_json)[i].is_object()) return InvalidArgumentError(path + ": must be an object");
      Fields fields((*loans_json)[i].get_object(), path);
      LoanRates entry;
      HPF_ASSIGN_OR_RETURN(entry.from, fields.IsoDate("from"));
      for (const auto& [name, rate] :
           {std::pair{"first_home_short_ppm", &entry.first_home_short},
            std::pair{"first_home_long_ppm", &entry.first_home_long},
            std::pair{"second_home_short_ppm", &entry.second_home_short},
            std::pair{"second_home_long_ppm", &entry.second_home_long}}) {
        HPF_ASSIGN_OR_RETURN(const int64_t value, fields.Integer(name, 0, kRatePpmMax));
        *rate = RatePpm{static_cast<uint32_t>(value)};
      }
      HPF_RETURN_IF_ERROR(fields.NoOthers());
      loans.push_back(entry);
    }
    if (Status status = ValidateLoanRates(loans); !status.ok()) {
      return InvalidArgumentError("policy.loan_rates" + status.message());
    }
    if (loans.front().from > Date::FromYyyymmdd(kDateYyyymmddMin).value()) {
      return top.Error("loan_rates", "must start on 1990-01-01, the first supported date");
    }
  }
  HPF_RETURN_IF_ERROR(top.NoOthers());
  return PolicyBook(std::move(versions), std::move(rates), std::move(loans));
}

namespace {

std::string_view RoundingName(RoundingRule rule) {
  switch (rule) {
    case RoundingRule::kHalfUpToFen:
      return "half_up_to_fen";
    case RoundingRule::kHalfUpToYuan:
      return "half_up_to_yuan";
    case RoundingRule::kUpToYuan:
      return "up_to_yuan";
  }
  HPF_ASSERT(false);  // a PolicyBook holds one of the three (ParsePolicy, DefaultPolicy)
  return {};
}

}  // namespace

std::string PolicyToJson(const PolicyBook& book) {
  // Keys are inserted in sorted order: boost::json keeps insertion order and serialize()
  // writes no whitespace, which makes the canonical form (schemas/events.fbs PolicyFormat).
  json::array rates;
  for (const RateSegment& segment : book.personal_rate_table()) {
    json::object entry;
    entry["from"] = segment.from.ToIsoString();
    entry["rate_ppm"] = segment.rate.value;
    rates.push_back(std::move(entry));
  }
  json::array versions;
  for (const Policy& policy : book.versions()) {
    json::object version;
    version["base_cap_fen"] = policy.base_cap.value;
    version["base_floor_fen"] = policy.base_floor.value;
    version["contribution_rate_max_ppm"] = policy.contribution_rate_max.value;
    version["contribution_rate_min_ppm"] = policy.contribution_rate_min.value;
    version["day_basis"] = static_cast<uint16_t>(policy.day_basis);
    version["deferral_last_month"] = policy.deferral_last_month.yyyymm();
    version["distribution_housing_ppm"] = policy.distribution_housing.value;
    version["distribution_management_ppm"] = policy.distribution_management.value;
    version["distribution_risk_reserve_ppm"] = policy.distribution_risk_reserve.value;
    version["effective_from"] = policy.effective_from.ToIsoString();
    version["flexible_employment"] = policy.flexible_employment;
    version["loan_overdue_exemption"] = policy.loan_overdue_exemption;
    version["loan_penalty_multiplier_ppm"] = policy.loan_penalty_multiplier.value;
    version["loan_term_months_max"] = policy.loan_term_months_max;
    version["rent_withdrawal_cap_fen"] = policy.rent_withdrawal_cap.value;
    version["rounding"] = RoundingName(policy.rounding);
    version["withdrawal_review_days"] = policy.withdrawal_review_days;
    versions.push_back(std::move(version));
  }
  json::array loans;
  for (const LoanRates& entry : book.loan_rates()) {
    json::object loan;
    loan["first_home_long_ppm"] = entry.first_home_long.value;
    loan["first_home_short_ppm"] = entry.first_home_short.value;
    loan["from"] = entry.from.ToIsoString();
    loan["second_home_long_ppm"] = entry.second_home_long.value;
    loan["second_home_short_ppm"] = entry.second_home_short.value;
    loans.push_back(std::move(loan));
  }
  json::object document;
  document["loan_rates"] = std::move(loans);
  document["personal_rates"] = std::move(rates);
  document["versions"] = std::move(versions);
  return json::serialize(document);
}

Result<PolicyBook> LoadPolicyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(fmt::format("cannot read the policy file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kPolicyFileBytesMax) {
    return InvalidArgumentError(
        fmt::format("the policy file {} exceeds {} bytes", path, kPolicyFileBytesMax));
  }
  auto book = ParsePolicy(text.str());
  if (!book.has_value()) {
    return InvalidArgumentError(fmt::format("{}: {}", path, book.error().message()));
  }
  return book;
}

}  // namespace hpf::ledger
