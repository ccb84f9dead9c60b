// bench/benchmarks.h — the benchmarks ledger-bench can run. Each prints one JSON object as its
// last line: its figures, the in-run baseline's, and their ratio.
#pragma once

#include <cstdint>

#include "bench/bench_util.h"

namespace hpf::bench {

int RunLogAppend(const Flags& flags);
int RunIngest(const Flags& flags);
int RunPublish(const Flags& flags);
int RunHttpIngest(const Flags& flags);
int RunRebuild(const Flags& flags);
int RunQuery(const Flags& flags);
int RunLag(const Flags& flags);

// The foundation's baseline: plain RocksDB, one Put per ~500-byte event, 1 000 per synced
// WriteBatch, `threads` writers. Returns events per second.
double PlainRocksDbEventsPerSecond(uint64_t records, uint64_t threads);

}  // namespace hpf::bench
