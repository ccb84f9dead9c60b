// bench/benchmarks.h — the benchmarks ledger-bench can run. Each prints one JSON object as its
// last line: its figures, the in-run baseline's, and their ratio.
#pragma once

#include "bench/bench_util.h"

namespace hpf::bench {

int RunLogAppend(const Flags& flags);

}  // namespace hpf::bench
