// `bench -o prometheus`: the summary in Prometheus' text exposition format, for a node exporter's
// textfile collector or a push gateway.
#pragma once

#include <string>

#include "load/engine.hpp"
#include "report/bench_report.hpp"

namespace grpcdx::report {

// grpcdx_bench_calls_total{method,status} (counter), grpcdx_bench_latency_seconds (histogram:
// _bucket{le} from 100 us to 10 s, _sum, _count), grpcdx_bench_duration_seconds and
// grpcdx_bench_rps (gauges), each with # HELP and # TYPE. Bucket counts come from the run's
// histogram, whose buckets are within 0.4 % of a value, so a call that close to a bound may fall
// on either side of it.
std::string bench_prometheus(const load::LoadResult& result, const BenchContext& context);

}  // namespace grpcdx::report
