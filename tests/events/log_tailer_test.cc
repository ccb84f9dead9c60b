// tests/events/log_tailer_test.cc — a tailer sees every committed record once, in order.
#include "events/log_tailer.h"

#include <thread>

#include <doctest/doctest.h>
#include <fmt/core.h>

#include "tests/support/records.h"

namespace hpf::events {
namespace {

TEST_SUITE("events") {
  TEST_CASE("LogTailer: wakes on append and reads each position once, in order") {
    testing::TempDir dir;
    auto log = EventLog::Open({.data_dir = dir.path(), .durability = Durability::kNoSync});
    REQUIRE(log.has_value());
    LogTailer tailer(**log, GlobalPosition{0});
    auto none =
        tailer.Poll(100, std::chrono::milliseconds(10), [](const RecordRef&) { return true; });
    REQUIRE(none.has_value());
    CHECK(*none == 0);
    constexpr int kRecords = 2500;
    std::thread producer([&] {
      for (int i = 0; i < kRecords; i += 100) {
        AppendBatch batch;
        for (int j = i; j < i + 100; ++j) {
          HPF_ASSERT(batch.AddRecord(testing::MakeReceipt({.key = fmt::format("t{}", j)})).ok());
        }
        HPF_ASSERT((*log)->Append(std::move(batch)).has_value());
      }
    });
    uint64_t expected = 1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (expected <= kRecords && std::chrono::steady_clock::now() < deadline) {
      auto n = tailer.Poll(333, std::chrono::milliseconds(200), [&](const RecordRef& ref) {
        CHECK(ref.position.value == expected);
        ++expected;
        return true;
      });
      REQUIRE(n.has_value());
    }
    producer.join();
    CHECK(expected == kRecords + 1);
    CHECK(tailer.next().value == kRecords + 1);
  }
}

}  // namespace
}  // namespace hpf::events
