// tests/ledger/policy_test.cc — the policy file: a good one loads, every kind of bad one is
// refused with the field's path, and decisions use the version in force on their date.
#include "ledger/policy.h"

#include <string>

#include <doctest/doctest.h>

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

  TEST_CASE("LoadPolicyFile: a missing file is an I/O error") {
    auto book = LoadPolicyFile("/nonexistent/policy.json");
    REQUIRE(!book.has_value());
    CHECK(book.error().code() == StatusCode::kIoError);
  }
}

}  // namespace
}  // namespace hpf::ledger
