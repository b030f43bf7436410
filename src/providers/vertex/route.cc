#include "providers/vertex/route.h"

#include "providers/bedrock/sigv4.h"

namespace baagate::providers::vertex {

namespace json = boost::json;

namespace {

// Percent-encodes a path segment but keeps '@' (a pchar in RFC 3986), which Vertex model
// versions use literally: claude-sonnet-4@20250514.
std::string Segment(std::string_view s) {
  std::string e = bedrock::UriEncode(s, false);
  for (std::size_t at = e.find("%40"); at != std::string::npos; at = e.find("%40", at + 1)) {
    e.replace(at, 3, "@");
  }
  return e;
}

}  // namespace

std::string ModelPath(std::string_view project, std::string_view region, bool anthropic,
                      std::string_view model, bool stream) {
  std::string path = "/v1/projects/" + Segment(project) + "/locations/" + Segment(region) +
                     "/publishers/" + (anthropic ? "anthropic" : "google") + "/models/" +
                     Segment(model);
  if (anthropic) return path + (stream ? ":streamRawPredict" : ":rawPredict");
  return path + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
}

std::string ClaudeRawPredictBody(json::object messages, bool stream) {
  messages.erase("model");
  messages["anthropic_version"] = kClaudeVertexVersion;
  if (stream) {
    messages["stream"] = true;
  } else {
    messages.erase("stream");
  }
  return json::serialize(messages);
}

bool GeminiRequestFor(bool anthropic_client, bool chat_completions, const json::object& chat,
                      json::object* out, TranslateError* error) {
  if (anthropic_client) {
    error->message = "Anthropic Messages requests cannot be served by a Gemini route; use the "
                     "OpenAI chat completions endpoint.";
    return false;
  }
  if (!chat_completions) {
    error->message = "This endpoint cannot be served by a Gemini route.";
    return false;
  }
  return ChatRequestToGenerateContent(chat, out, error);
}

}  // namespace baagate::providers::vertex
