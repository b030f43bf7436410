// Kernel benchmarks: SSE parsing throughput and per-chunk overhead (the relay's inner loop).
#include <benchmark/benchmark.h>

#include <string>

#include "http/sse.h"

namespace {

std::string MakeStream(int events) {
  std::string s;
  for (int i = 0; i < events; ++i) {
    s += "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,"
         "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"token \"},"
         "\"logprobs\":null,\"finish_reason\":null}]}\n\n";
  }
  s += "data: [DONE]\n\n";
  return s;
}

void BM_SseParseStream(benchmark::State& state) {
  const std::string stream = MakeStream(256);
  const std::size_t chunk = static_cast<std::size_t>(state.range(0));
  std::size_t events = 0;
  for (auto _ : state) {
    baagate::http::SseParser parser;
    for (std::size_t off = 0; off < stream.size(); off += chunk) {
      auto st = parser.Feed(std::string_view(stream).substr(off, chunk),
                            [&](const baagate::http::SseEvent& ev) { events += ev.has_data; });
      benchmark::DoNotOptimize(st);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  benchmark::DoNotOptimize(events);
}
BENCHMARK(BM_SseParseStream)->Arg(16)->Arg(256)->Arg(4096)->Arg(65536);

}  // namespace

BENCHMARK_MAIN();
