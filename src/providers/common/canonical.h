// The provider-neutral outcome of one upstream call, as the audit record and metrics need it
// (PROVIDERS.md §1.6 content-filter signals, §1.7 usage fields). Every dialect maps its
// vocabulary here with an explicit kUnknown; nothing in this header holds request content.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace baagate::providers {

enum class FinishReason {
  kUnknown,        // not reported (yet), or a value this build does not know
  kStop,           // natural end or stop sequence
  kLength,         // token limit or context window
  kToolCalls,      // the model asked for tools
  kContentFilter,  // vendor refusal / safety block (audit: content_filter_triggered)
  kError,          // the stream ended with an upstream error
};
std::string_view FinishReasonName(FinishReason r);

// Token counts; -1 means the vendor did not report the figure.
struct CanonicalUsage {
  std::int64_t input_tokens = -1;         // all input, cached included
  std::int64_t output_tokens = -1;
  std::int64_t cached_input_tokens = -1;  // part of input_tokens served from a cache
  std::int64_t cache_write_tokens = -1;   // part of input_tokens written to a cache
  bool reported() const { return input_tokens >= 0 || output_tokens >= 0; }
  std::int64_t total() const;  // -1 when neither side is known
};

struct CanonicalOutcome {
  FinishReason finish = FinishReason::kUnknown;
  CanonicalUsage usage;
  bool content_filter = false;
  std::string upstream_request_id;  // vendor's id header (request-id, x-request-id, …)
  // The model the vendor says served the call (its response's "model" / "modelVersion"), at
  // most 128 bytes; the audit keeps it only if it validates as an id.
  std::string model;
  std::string error_class;          // "" or a fixed word: upstream_error, upstream_framing, …
};

// Audit status word: "ok", "content_filter_triggered" or "error".
std::string_view AuditStatus(const CanonicalOutcome& o);

// Vendor vocabularies -> FinishReason.
FinishReason FromOpenAiFinishReason(std::string_view v);
FinishReason FromAnthropicStopReason(std::string_view v);
FinishReason FromBedrockStopReason(std::string_view v);
FinishReason FromVertexFinishReason(std::string_view v);

// Back to the client dialects (translation).
std::string_view ToOpenAiFinishReason(FinishReason r);
std::string_view ToAnthropicStopReason(FinishReason r);

}  // namespace baagate::providers
