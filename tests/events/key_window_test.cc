// tests/events/key_window_test.cc — the in-memory key table against a plain multimap.
#include "events/internal/key_window.h"

#include <map>
#include <random>
#include <set>

#include <doctest/doctest.h>

namespace hpf::events::internal {
namespace {

TEST_SUITE("events") {
  TEST_CASE("KeyWindow: random inserts, evictions and rollbacks match a reference model") {
    std::mt19937_64 rng(20221001);
    KeyWindow window;
    std::multimap<uint64_t, uint64_t> model;  // fingerprint -> position
    uint64_t next = 1;
    for (int step = 0; step < 200'000; ++step) {
      const int op = static_cast<int>(rng() % 100);
      if (op < 80) {
        // Few distinct fingerprints with shared low bits: long probe runs and collisions.
        const uint64_t fp = (rng() % 5000) << 20 | (rng() % 3);
        window.Insert(fp, next);
        model.emplace(fp, next);
        ++next;
      } else if (op < 95) {
        const uint64_t bound = window.oldest_position() + rng() % 50;
        window.EvictThrough(bound);
        std::erase_if(model, [&](const auto& kv) { return kv.second <= bound; });
      } else {
        const uint64_t keep = next - 1 - rng() % 5;
        window.ForgetAfter(keep);
        std::erase_if(model, [&](const auto& kv) { return kv.second > keep; });
        next = keep + 1;
        if (!model.empty()) next = std::max(next, model.rbegin()->second + 1);
        for (const auto& kv : model) next = std::max(next, kv.second + 1);
      }
      if (step % 997 == 0) {
        REQUIRE(window.size() == model.size());
        for (uint64_t probe = 0; probe < 40; ++probe) {
          const uint64_t fp = (rng() % 5000) << 20 | (rng() % 3);
          std::multiset<uint64_t> got;
          window.ForEach(fp, [&](uint64_t p) { got.insert(p); });
          std::multiset<uint64_t> want;
          auto [lo, hi] = model.equal_range(fp);
          for (auto it = lo; it != hi; ++it) want.insert(it->second);
          REQUIRE(got == want);
        }
      }
    }
  }

  TEST_CASE("KeyFingerprint: stable across builds (part of the store format)") {
    // Changing the function would orphan every persisted index entry. Values computed
    // independently (FNV-1a 64 then MurmurHash3 fmix64, in Python).
    CHECK(KeyFingerprint("") == 0xefd01f60ba992926ull);
    CHECK(KeyFingerprint("ICBC-20220621-000001") == 0xa213046846473570ull);
    CHECK(KeyFingerprint("ICBC-20220621-000001") != KeyFingerprint("ICBC-20220621-000002"));
  }
}

}  // namespace
}  // namespace hpf::events::internal
