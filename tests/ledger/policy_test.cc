// tests/ledger/policy_test.cc — the policy file: a good one loads, every kind of bad one is
// refused with the field's path, and decisions use the version in force on their date.
#include "ledger/policy.h"

#include <string>

#include <doctest/doctest.h>
#include <fmt/core.h>

namespace hpf::ledger {
namespace {

// A document with two versions; `version_field` replaces one line of the second version.
std::string Document(const std::string& second_version_extra = "",
                     const std::string& rounding = "half_up_to_yuan") {
  return R"({"versions":[
    {"effective_from":"1990-01-01","contribution_rate_min_ppm":50000,
     "contribution_rate_max_ppm":120000,"base_floor_fen":210000,"base_cap_fen":2871600,
     "rounding":"half_up_to_fen","deferral_last_month":202212,"day_basis":360},
    {"effective_from":"2023-07-01","contribution_rate_min_ppm":50000,
     "contribution_rate_max_ppm":120000,"base_floor_fen":220000,"base_cap_fen":3000000,
     "rounding":")" +
         rounding + R"(","deferral_last_month":202212,"day_basis":365)" + second_version_extra +
         R"(}],
  "personal_rates":[{"from":"1990-01-01","rate_ppm":11000},
                    {"from":"2016-02-21","rate_ppm":15000}]})";
}

Date Day(uint32_t yyyymmdd) { return Date::FromYyyymmdd(yyyymmdd).value(); }

std::string ErrorOf(const std::string& document) {
  auto book = ParsePolicy(document);
  REQUIRE(!book.has_value());
  CHECK(book.error().code() == StatusCode::kInvalidArgument);
  return book.error().message();
}

TEST_SUITE("ledger") {
  TEST_CASE("ParsePolicy: versions apply from their effective date") {
    auto book = ParsePolicy(Document());
    REQUIRE_MESSAGE(book.has_value(), book.status().ToString());
    CHECK(book->At(Day(20230630)).base_floor == Fen{210'000});
    CHECK(book->At(Day(20230701)).base_floor == Fen{220'000});
    CHECK(book->At(Day(20230701)).rounding == RoundingRule::kHalfUpToYuan);
    CHECK(book->At(Day(20230701)).day_basis == DayBasis::k365);
    CHECK(book->personal_rate_table().size() == 2);
    CHECK(book->personal_rate_table()[1].rate == RatePpm{15'000});
  }

  TEST_CASE("ParsePolicy: withdrawal_review_days, added later, means 3 days where absent") {
    auto book = ParsePolicy(Document(R"(,"withdrawal_review_days":5)"));
    REQUIRE_MESSAGE(book.has_value(), book.status().ToString());
    CHECK(book->At(Day(20220701)).withdrawal_review_days == 3);  // a document recorded before
    CHECK(book->At(Day(20230701)).withdrawal_review_days == 5);
    CHECK(ErrorOf(Document(R"(,"withdrawal_review_days":0)")).find("withdrawal_review_days") !=
          std::string::npos);
    CHECK(ErrorOf(Document(R"(,"withdrawal_review_days":"3")")).find("must be an integer") !=
          std::string::npos);
  }

  TEST_CASE("ParsePolicy: part 2's parameters, added later, mean DOMAIN's figures where absent") {
    auto book = ParsePolicy(
        Document(R"(,"rent_withdrawal_cap_fen":150000,"flexible_employment":false,)"
                 R"("loan_term_months_max":300,"loan_penalty_multiplier_ppm":1300000,)"
                 R"("loan_overdue_exemption":true,"distribution_risk_reserve_ppm":600000,)"
                 R"("distribution_management_ppm":300000,"distribution_housing_ppm":100000)"));
    REQUIRE_MESSAGE(book.has_value(), book.status().ToString());
    const ::hpf::ledger::Policy& before = book->At(Day(20220701));  // recorded without them
    CHECK(before.rent_withdrawal_cap == Fen{200'000});
    CHECK(before.flexible_employment);
    CHECK(before.loan_term_months_max == 360);
    CHECK(before.loan_penalty_multiplier == RatePpm{1'500'000});
    CHECK(!before.loan_overdue_exemption);
    CHECK(before.distribution_risk_reserve == RatePpm{500'000});
    const ::hpf::ledger::Policy& after = book->At(Day(20230701));
    CHECK(after.rent_withdrawal_cap == Fen{150'000});
    CHECK(!after.flexible_employment);
    CHECK(after.loan_term_months_max == 300);
    CHECK(after.loan_penalty_multiplier == RatePpm{1'300'000});
    CHECK(after.loan_overdue_exemption);
    CHECK(after.distribution_housing == RatePpm{100'000});
    // Without a loan rate table: DOMAIN's, 3.10 % for a long first-home loan from 2022-10-01.
    REQUIRE(book->loan_rates().size() == 2);
    CHECK(book->loan_rates()[1].from == Day(20221001));
    CHECK(book->loan_rates()[1].first_home_long == RatePpm{31'000});
    CHECK(ErrorOf(Document(R"(,"distribution_housing_ppm":150000)")).find("must sum to 1000000") !=
          std::string::npos);
    CHECK(ErrorOf(Document(R"(,"loan_penalty_multiplier_ppm":1600000)"))
              .find("loan_penalty_multiplier_ppm: must be between 1300000 and 1500000") !=
          std::string::npos);
    CHECK(ErrorOf(Document(R"(,"loan_overdue_exemption":1)")).find("must be true or false") !=
          std::string::npos);
    std::string loans = Document();
    loans.insert(loans.size() - 1,
                 R"(,"loan_rates":[{"from":"1990-01-01","first_home_short_ppm":27500,)"
                 R"("first_home_long_ppm":32500,"second_home_short_ppm":30250,)"
                 R"("second_home_long_ppm":35750},{"from":"1989-12-31","first_home_short_ppm":1,)"
                 R"("first_home_long_ppm":1,"second_home_short_ppm":1,"second_home_long_ppm":1}])");
    CHECK(ErrorOf(loans).find("policy.loan_rates[1].from") != std::string::npos);
  }

  TEST_CASE("ParsePolicy: bad documents are refused, naming the field") {
    CHECK(ErrorOf("{").find("not JSON") != std::string::npos);
    CHECK(ErrorOf("[]").find("must be a JSON object") != std::string::npos);
    CHECK(ErrorOf(Document(R"(,"day_basiss":360)")).find("versions[1].day_basiss: unknown field") !=
          std::string::npos);
    CHECK(ErrorOf(Document("", "bankers")).find("versions[1].rounding") != std::string::npos);
    std::string bad_basis = Document();
    bad_basis.replace(bad_basis.find(R"("day_basis":365)"), 15, R"("day_basis":366)");
    CHECK(ErrorOf(bad_basis).find("day_basis") != std::string::npos);
    std::string swapped = Document();
    swapped.replace(swapped.find(R"("base_floor_fen":220000)"), 23, R"("base_floor_fen":3000001)");
    CHECK(ErrorOf(swapped).find("base_floor_fen: must not exceed base_cap_fen") !=
          std::string::npos);
    std::string order = Document();
    order.replace(order.find("2023-07-01"), 10, "1989-12-31");
    CHECK(ErrorOf(order).find("versions[1].effective_from") != std::string::npos);
    std::string bad_date = Document();
    bad_date.replace(bad_date.find("2023-07-01"), 10, "2023-02-29");
    CHECK(ErrorOf(bad_date).find("effective_from") != std::string::npos);
    std::string typed = Document();
    typed.replace(typed.find(R"("base_cap_fen":3000000)"), 22, R"("base_cap_fen":"30000")");
    CHECK(ErrorOf(typed).find("base_cap_fen: must be an integer") != std::string::npos);
    std::string rates = Document();
    rates.replace(rates.find(R"({"from":"1990-01-01","rate_ppm":11000},)"), 39, "");
    CHECK(ErrorOf(rates).find("personal_rates") != std::string::npos);
  }

  TEST_CASE("PolicyToJson: the canonical document, which parses back to the same book") {
    const PolicyBook shipped = DefaultPolicy();
    const std::string canonical = PolicyToJson(shipped);
    // Sorted keys, no whitespace, dates yyyy-mm-dd, integers.
    CHECK(canonical ==
          R"({"loan_rates":[{"first_home_long_ppm":32500,"first_home_short_ppm":27500,)"
          R"("from":"1990-01-01","second_home_long_ppm":35750,"second_home_short_ppm":30250},)"
          R"({"first_home_long_ppm":31000,"first_home_short_ppm":26000,"from":"2022-10-01",)"
          R"("second_home_long_ppm":35750,"second_home_short_ppm":30250}],)"
          R"("personal_rates":[{"from":"1990-01-01","rate_ppm":11000},)"
          R"({"from":"2016-02-21","rate_ppm":15000}],)"
          R"("versions":[{"base_cap_fen":2871600,"base_floor_fen":210000,)"
          R"("contribution_rate_max_ppm":120000,"contribution_rate_min_ppm":50000,)"
          R"("day_basis":360,"deferral_last_month":202212,"distribution_housing_ppm":140000,)"
          R"("distribution_management_ppm":360000,"distribution_risk_reserve_ppm":500000,)"
          R"("effective_from":"1990-01-01","flexible_employment":true,)"
          R"("loan_overdue_exemption":false,"loan_penalty_multiplier_ppm":1500000,)"
          R"("loan_term_months_max":360,"rent_withdrawal_cap_fen":200000,)"
          R"("rounding":"half_up_to_fen","withdrawal_review_days":3}]})");
    auto parsed = ParsePolicy(canonical);
    REQUIRE_MESSAGE(parsed.has_value(), parsed.status().ToString());
    CHECK(*parsed == shipped);

    // A multi-version book with every rounding rule and both day bases.
    std::string three = Document("", "up_to_yuan");
    three.replace(three.find("}],"), 3, R"(},
      {"effective_from":"2024-07-01","contribution_rate_min_ppm":60000,
       "contribution_rate_max_ppm":110000,"base_floor_fen":230000,"base_cap_fen":3100000,
       "rounding":"half_up_to_yuan","deferral_last_month":202412,"day_basis":360}],)");
    auto multi = ParsePolicy(three);
    REQUIRE_MESSAGE(multi.has_value(), multi.status().ToString());
    REQUIRE(multi->versions().size() == 3);
    auto again = ParsePolicy(PolicyToJson(*multi));
    REQUIRE(again.has_value());
    CHECK(*again == *multi);
    CHECK(PolicyToJson(*again) == PolicyToJson(*multi));
    CHECK(again->At(Day(20240701)).contribution_rate_min == RatePpm{60'000});
    CHECK(again->At(Day(20230701)).rounding == RoundingRule::kUpToYuan);
    // Another spelling of the same book (whitespace, key order) has the same canonical form.
    CHECK(PolicyToJson(ParsePolicy(Document()).value()) ==
          PolicyToJson(ParsePolicy(PolicyToJson(ParsePolicy(Document()).value())).value()));
    // Any difference shows: the books and their documents differ.
    CHECK(!(*multi == shipped));
    CHECK(PolicyToJson(*multi) != canonical);
  }

  TEST_CASE("ParsePolicy: an interest year holds at most 16 rate segments") {
    std::string rates = R"({"from":"1990-01-01","rate_ppm":11000})";
    // 15 changes inside interest year 2022 give it 16 segments; a 16th change, 17.
    for (int month = 8; month <= 12; ++month) {
      for (int day : {5, 15, 25}) {
        rates += fmt::format(R"(,{{"from":"2022-{:02}-{:02}","rate_ppm":{}}})", month, day,
                             15000 + month * 100 + day);
      }
    }
    const auto with_rates = [](const std::string& table) {
      std::string document = Document();
      const size_t from = document.find(R"("personal_rates":)");
      document.replace(from, document.size() - from, R"("personal_rates":[)" + table + "]}");
      return document;
    };
    auto sixteen = ParsePolicy(with_rates(rates));
    CHECK_MESSAGE(sixteen.has_value(), sixteen.status().ToString());
    const std::string message =
        ErrorOf(with_rates(rates + R"(,{"from":"2023-06-30","rate_ppm":15000})"));
    CHECK(message.find("interest year 2022 would have 17 rate segments") != std::string::npos);
    // The same entries spread over two years are fine.
    CHECK(
        ParsePolicy(with_rates(rates + R"(,{"from":"2023-07-01","rate_ppm":15000})")).has_value());
  }

  TEST_CASE("LoadPolicyFile: a missing file is an I/O error") {
    auto book = LoadPolicyFile("/nonexistent/policy.json");
    REQUIRE(!book.has_value());
    CHECK(book.error().code() == StatusCode::kIoError);
  }
}

}  // namespace
}  // namespace hpf::ledger
