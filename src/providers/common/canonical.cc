#include "providers/common/canonical.h"

namespace baagate::providers {

std::string_view FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kUnknown: return "unknown";
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
    case FinishReason::kError: return "error";
  }
  return "unknown";
}

std::int64_t CanonicalUsage::total() const {
  if (!reported()) return -1;
  return (input_tokens > 0 ? input_tokens : 0) + (output_tokens > 0 ? output_tokens : 0);
}

std::string_view AuditStatus(const CanonicalOutcome& o) {
  if (o.content_filter || o.finish == FinishReason::kContentFilter) {
    return "content_filter_triggered";
  }
  if (o.finish == FinishReason::kError || !o.error_class.empty()) return "error";
  return "ok";
}

FinishReason FromOpenAiFinishReason(std::string_view v) {
  if (v == "stop") return FinishReason::kStop;
  if (v == "length") return FinishReason::kLength;
  if (v == "tool_calls" || v == "function_call") return FinishReason::kToolCalls;
  if (v == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

FinishReason FromAnthropicStopReason(std::string_view v) {
  if (v == "end_turn" || v == "stop_sequence" || v == "pause_turn") return FinishReason::kStop;
  if (v == "max_tokens" || v == "model_context_window_exceeded") return FinishReason::kLength;
  if (v == "tool_use") return FinishReason::kToolCalls;
  if (v == "refusal") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

FinishReason FromBedrockStopReason(std::string_view v) {
  if (v == "end_turn" || v == "stop_sequence") return FinishReason::kStop;
  if (v == "max_tokens" || v == "model_context_window_exceeded") return FinishReason::kLength;
  if (v == "tool_use") return FinishReason::kToolCalls;
  if (v == "guardrail_intervened" || v == "content_filtered") return FinishReason::kContentFilter;
  return FinishReason::kUnknown;
}

FinishReason FromVertexFinishReason(std::string_view v) {
  if (v == "STOP") return FinishReason::kStop;
  if (v == "MAX_TOKENS") return FinishReason::kLength;
  if (v == "SAFETY" || v == "PROHIBITED_CONTENT" || v == "SPII" || v == "BLOCKLIST" ||
      v == "RECITATION") {
    return FinishReason::kContentFilter;
  }
  return FinishReason::kUnknown;
}

std::string_view ToOpenAiFinishReason(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "length";
    case FinishReason::kToolCalls: return "tool_calls";
    case FinishReason::kContentFilter: return "content_filter";
    case FinishReason::kStop:
    case FinishReason::kUnknown:
    case FinishReason::kError: return "stop";
  }
  return "stop";
}

std::string_view ToAnthropicStopReason(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "max_tokens";
    case FinishReason::kToolCalls: return "tool_use";
    case FinishReason::kContentFilter: return "refusal";
    case FinishReason::kStop:
    case FinishReason::kUnknown:
    case FinishReason::kError: return "end_turn";
  }
  return "end_turn";
}

}  // namespace baagate::providers
