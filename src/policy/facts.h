// Request facts: the provider-neutral description of a call that the policy engine decides on
// (PROVIDERS.md §1.1). Extracted from a *structural* walk of the JSON body — field presence,
// `type` tags, booleans — never from free text, so facts hold no PHI.
//
// Anything the extractor does not recognise is recorded, not ignored: an unknown top-level
// field or content-part type is a feature nobody has checked, and the engine refuses it
// (reason UNKNOWN_FIELD:<name>).
#pragma once

#include <boost/json/fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace baagate::policy {

// The request shapes the extractor reads.
enum class Surface {
  kOpenAIChat,        // POST /v1/chat/completions
  kOpenAIEmbeddings,  // POST /v1/embeddings
  kOpenAIResponses,   // POST /v1/responses
  kAnthropicMessages,     // POST /v1/messages
  kAnthropicCountTokens,  // POST /v1/messages/count_tokens
  kBedrockConverse,       // POST /model/{modelId}/converse[-stream] (PROVIDERS.md §5.2)
};
std::string_view SurfaceName(Surface s);  // openai.chat_completions, …
std::string_view SurfaceEndpoint(Surface s);  // "POST /v1/chat/completions", …
// The registry surface of the call the upstream receives when a client uses `front` against a
// route to `provider` (a call may be translated: OpenAI chat to a Bedrock Converse route is
// bedrock.converse, Anthropic Messages to a Bedrock InvokeModel route bedrock.invoke).
std::string UpstreamSurface(std::string_view provider, Surface front);

struct RequestFacts {
  std::string provider;   // registry provider id of the upstream (openai, anthropic, …)
  std::string surface;    // registry surface, e.g. openai.chat_completions
  std::string endpoint;   // "POST /v1/chat/completions"
  std::string model;      // what the vendor will receive
  std::string region;     // where the upstream processes (from configuration; may be empty)
  bool private_connectivity = false;
  bool stream = false;
  bool preview = false;  // a preview/beta model or api-version (C-GA)

  // Sorted, unique feature tags; "core" is implicit and not listed.
  std::vector<std::string> features;
  std::vector<std::string> modalities_in;   // sorted: audio, file_ref, image, pdf, text, video
  std::vector<std::string> modalities_out;
  // Recipients besides the vendor named by the request itself (e.g. "mcp:ehr.example.org").
  std::vector<std::string> recipients;
  // Unrecognised top-level fields and content-part types, as "messages[].content[].type=foo"
  // style names; they are field names and type tags, never values.
  std::vector<std::string> unknown_fields;

  // Configuration-relevant values (PROVIDERS.md §1.1 config_fields).
  bool store = false;               // the vendor will store the call (explicit or default)
  bool background = false;
  bool conversation_state = false;  // previous_response_id / conversation
  bool metadata_attached = false;
  bool end_user_id = false;         // a raw end-user id is present
  bool end_user_pseudonymized = false;  // set by enforcement, not by extraction
  std::string inference_geo;        // Anthropic body hint; empty if absent

  // Set when the body could not be read structurally; the call is then blocked.
  std::string extraction_error;

  bool HasFeature(std::string_view f) const;
  void AddFeature(std::string_view f);
  void AddModalityIn(std::string_view m);
  void AddModalityOut(std::string_view m);
  void Normalize();  // sorts and dedups the lists
};

// Fills the body-derived facts for `surface` (provider, region, model and endpoint come from
// the route and are set by the caller). `beta_headers` is the raw anthropic-beta header value.
// Never throws; a body of the wrong shape sets extraction_error.
void ExtractFacts(Surface surface, const boost::json::object& body, std::string_view beta_headers,
                  RequestFacts* facts);

}  // namespace baagate::policy
