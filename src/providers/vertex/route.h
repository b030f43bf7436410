// What the gateway needs to send a call to a Vertex AI route (PROVIDERS.md §6.1, §6.5): the
// model path, the Claude rawPredict body, and the Gemini request for a client. Pure functions.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "providers/vertex/gemini.h"

namespace baagate::providers::vertex {

inline constexpr std::string_view kClaudeVertexVersion = "vertex-2023-10-16";

// /v1/projects/{project}/locations/{region}/publishers/{google|anthropic}/models/{model}:{method}
// with generateContent / streamGenerateContent?alt=sse (Gemini) or rawPredict /
// streamRawPredict (Claude). Each segment is percent-encoded. The base URL supplies the host
// ({region}-aiplatform.googleapis.com, or a fake's).
std::string ModelPath(std::string_view project, std::string_view region, bool anthropic,
                      std::string_view model, bool stream);

// An Anthropic Messages body for rawPredict: no model (it is in the path), the Vertex
// anthropic_version, stream as the client asked.
std::string ClaudeRawPredictBody(boost::json::object messages, bool stream);

// The generateContent body for a client's request: only OpenAI chat completions translate
// (Anthropic clients and other endpoints fail with a TranslateError).
bool GeminiRequestFor(bool anthropic_client, bool chat_completions,
                      const boost::json::object& chat, boost::json::object* out,
                      TranslateError* error);

}  // namespace baagate::providers::vertex
