// PHI kernels: detector scan and de-identification throughput on clinical-style text, per
// thread (Google Benchmark reports bytes/s per thread; items are notes).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "phi/detector.h"
#include "phi/session.h"

namespace {

using baagate::phi::Detector;

const std::shared_ptr<const Detector>& BenchDetector() {
  static const std::shared_ptr<const Detector> d = [] {
    auto r = Detector::Create();
    if (!r.ok()) std::abort();
    return *r;
  }();
  return d;
}

// About `bytes` of notes built from a fixed mix of identifier-bearing and plain sentences.
std::string Notes(std::size_t bytes) {
  static const char* kSentences[] = {
      "Patient reports intermittent chest pain radiating to the left arm, worse with exertion. ",
      "Seen by Dr. Johnson at UCLA Medical Center on March 14, 2022. ",
      "Continue metformin 1000 mg twice daily and lisinopril 20 mg daily. ",
      "Sarah P., a 67-year-old, MRN: CC-4456721, phone (312) 555-0187. ",
      "Lungs clear to auscultation bilaterally; no wheezes, rales or rhonchi. ",
      "Echocardiogram showed an ejection fraction of 35% with mild mitral regurgitation. ",
      "Lives at 4521 Maple Street, Chicago, IL 60614; email s.p@example.com. ",
      "Renal function stable with an eGFR of 48 mL/min/1.73m2 and potassium of 4.6 mmol/L. ",
      "Plan: follow up in clinic in two weeks, sooner if symptoms worsen.\n",
  };
  std::string out;
  std::size_t i = 0;
  while (out.size() < bytes) out += kSentences[i++ % (sizeof(kSentences) / sizeof(*kSentences))];
  return out;
}

void BM_PhiScan(benchmark::State& state) {
  const std::string text = Notes(static_cast<std::size_t>(state.range(0)));
  const Detector& d = *BenchDetector();
  for (auto _ : state) {
    auto r = d.Scan(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PhiScan)->Arg(1 << 10)->Arg(64 << 10)->Arg(1 << 20)->ThreadRange(1, 2)->UseRealTime();

void BM_PhiDeidentify(benchmark::State& state) {
  const std::string text = Notes(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    baagate::phi::Session s(BenchDetector(), baagate::phi::TransformMode::kPlaceholder);
    auto r = s.Deidentify(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PhiDeidentify)->Arg(4 << 10)->Arg(1 << 20)->ThreadRange(1, 2)->UseRealTime();

void BM_PhiStreamReidentify(benchmark::State& state) {
  baagate::phi::Session s(BenchDetector(), baagate::phi::TransformMode::kPlaceholder);
  auto de = s.Deidentify(Notes(64 << 10));
  if (!de.ok()) std::abort();
  for (auto _ : state) {
    baagate::phi::StreamReidentifier stream(s);
    std::string out;
    for (std::size_t pos = 0; pos < de->size(); pos += 16) {
      out += stream.Feed(std::string_view(*de).substr(pos, 16));  // token-sized SSE deltas
    }
    out += stream.Finish();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * de->size()));
}
BENCHMARK(BM_PhiStreamReidentify);

}  // namespace

BENCHMARK_MAIN();
