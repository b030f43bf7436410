#include "providers/openai/openai.h"

#include "core/log.h"

namespace baagate::providers::openai {

namespace json = boost::json;

Endpoint ClassifyPath(std::string_view path) {
  if (path == "/v1/chat/completions") return Endpoint::kChatCompletions;
  if (path == "/v1/embeddings") return Endpoint::kEmbeddings;
  if (path == "/v1/models") return Endpoint::kModels;
  return Endpoint::kUnknown;
}

std::string_view EndpointName(Endpoint e) {
  switch (e) {
    case Endpoint::kChatCompletions: return "chat_completions";
    case Endpoint::kEmbeddings: return "embeddings";
    case Endpoint::kModels: return "models";
    case Endpoint::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view EndpointUpstreamPath(Endpoint e) {
  switch (e) {
    case Endpoint::kChatCompletions: return "/chat/completions";
    case Endpoint::kEmbeddings: return "/embeddings";
    case Endpoint::kModels: return "/models";
    case Endpoint::kUnknown: return "";
  }
  return "";
}

std::string_view ErrorTypeForStatus(unsigned status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 502: return "upstream_error";
    case 504: return "timeout_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string ErrorJson(std::string_view message, std::string_view type, std::string_view param,
                      std::string_view code) {
  std::string out = "{\"error\":{\"message\":";
  core::AppendJsonString(out, message);
  out += ",\"type\":";
  core::AppendJsonString(out, type);
  out += ",\"param\":";
  if (param.empty()) {
    out += "null";
  } else {
    core::AppendJsonString(out, param);
  }
  out += ",\"code\":";
  if (code.empty()) {
    out += "null";
  } else {
    core::AppendJsonString(out, code);
  }
  out += "}}";
  return out;
}

std::string ErrorJsonForStatus(unsigned status, std::string_view code, std::string_view message) {
  return ErrorJson(message, ErrorTypeForStatus(status), "", code);
}

namespace {

bool Fail(RequestError* error, std::string message, std::string param) {
  error->message = std::move(message);
  error->param = std::move(param);
  return false;
}

bool ValidateChat(const json::object& body, ParsedRequest* out, RequestError* error) {
  const json::value* messages = body.if_contains("messages");
  if (!messages) return Fail(error, "Missing required parameter: 'messages'.", "messages");
  if (!messages->is_array() || messages->as_array().empty()) {
    return Fail(error, "'messages' must be a non-empty array.", "messages");
  }
  const auto& arr = messages->as_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    std::string p = "messages[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return Fail(error, "'" + p + "' must be an object.", p);
    const json::value* role = arr[i].as_object().if_contains("role");
    if (!role || !role->is_string()) {
      return Fail(error, "'" + p + ".role' must be a string.", p + ".role");
    }
  }
  if (const json::value* s = body.if_contains("stream")) {
    if (!s->is_bool() && !s->is_null()) return Fail(error, "'stream' must be a boolean.", "stream");
    out->stream = s->is_bool() && s->as_bool();
  }
  if (const json::value* so = body.if_contains("stream_options")) {
    if (!so->is_object() && !so->is_null()) {
      return Fail(error, "'stream_options' must be an object.", "stream_options");
    }
    if (so->is_object()) {
      if (!out->stream) {
        return Fail(error, "'stream_options' is only allowed when 'stream' is true.",
                    "stream_options");
      }
      if (const json::value* iu = so->as_object().if_contains("include_usage")) {
        if (!iu->is_bool()) {
          return Fail(error, "'stream_options.include_usage' must be a boolean.",
                      "stream_options.include_usage");
        }
        out->client_wants_usage = iu->as_bool();
      }
    }
  }
  return true;
}

bool ValidateEmbeddings(const json::object& body, RequestError* error) {
  const json::value* input = body.if_contains("input");
  if (!input) return Fail(error, "Missing required parameter: 'input'.", "input");
  if (!input->is_string() && !(input->is_array() && !input->as_array().empty())) {
    return Fail(error, "'input' must be a string or a non-empty array.", "input");
  }
  if (const json::value* s = body.if_contains("stream"); s && !s->is_null()) {
    return Fail(error, "Embeddings do not stream.", "stream");
  }
  return true;
}

// Vendor `type` and `code` values passed on to clients. Anything else is dropped: a vendor may
// put request text in any field, and an identifier-shaped value can still be a name.
constexpr std::string_view kKnownErrorWords[] = {
    "invalid_request_error", "authentication_error", "permission_error", "not_found_error",
    "rate_limit_error", "server_error", "requests", "tokens", "insufficient_quota",
    "invalid_api_key", "invalid_value", "invalid_type", "missing_required_parameter",
    "unknown_parameter", "unsupported_parameter", "unsupported_value", "model_not_found",
    "context_length_exceeded", "rate_limit_exceeded", "content_filter",
    "content_policy_violation", "string_above_max_length", "array_above_max_length",
    "empty_array", "integer_below_min_value", "integer_above_max_value",
    "decimal_below_min_value", "decimal_above_max_value", "invalid_image", "invalid_prompt",
    "invalid_image_url", "image_parse_error", "data_residency_mismatch"};

bool IsKnownErrorWord(std::string_view s) {
  for (std::string_view w : kKnownErrorWords) {
    if (s == w) return true;
  }
  return false;
}

// A parameter path as the API names them: snake_case keys and [index], joined by dots
// ("messages[0].content"). Lower case only, so a name cannot pass as a key.
bool IsParamPath(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  bool need_key = true;  // at the start and after '.'
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= 'a' && c <= 'z') || c == '_' || (!need_key && c >= '0' && c <= '9')) {
      need_key = false;
    } else if (c == '.' && !need_key) {
      need_key = true;
    } else if (c == '[' && !need_key) {
      std::size_t close = s.find(']', i);
      if (close == std::string_view::npos || close == i + 1) return false;
      for (std::size_t k = i + 1; k < close; ++k) {
        if (s[k] < '0' || s[k] > '9') return false;
      }
      i = close;
    } else {
      return false;
    }
  }
  return !need_key;
}

}  // namespace

bool ParseRequest(Endpoint endpoint, std::string_view body, ParsedRequest* out,
                  RequestError* error) {
  out->endpoint = endpoint;
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    return Fail(error, "The request body is not valid JSON (or not valid UTF-8).", "");
  }
  if (!v.is_object()) return Fail(error, "The request body must be a JSON object.", "");
  out->body = std::move(v.as_object());
  const json::value* model = out->body.if_contains("model");
  if (!model) return Fail(error, "Missing required parameter: 'model'.", "model");
  if (!model->is_string() || model->as_string().empty()) {
    return Fail(error, "'model' must be a non-empty string.", "model");
  }
  out->model = std::string(model->as_string());
  switch (endpoint) {
    case Endpoint::kChatCompletions: return ValidateChat(out->body, out, error);
    case Endpoint::kEmbeddings: return ValidateEmbeddings(out->body, error);
    default: return Fail(error, "This endpoint takes no request body.", "");
  }
}

std::string EncodeUpstreamBody(ParsedRequest& req, std::string_view upstream_model) {
  json::object& body = req.body;
  body["model"] = upstream_model;
  if (req.endpoint == Endpoint::kChatCompletions && req.stream) {
    json::value& so = body["stream_options"];
    if (!so.is_object()) so = json::object();
    so.as_object()["include_usage"] = true;
  }
  return json::serialize(body);
}

bool ReadUsage(const json::object& obj, Usage* out) {
  const json::value* u = obj.if_contains("usage");
  if (!u || !u->is_object()) return false;
  auto num = [&](std::string_view key) -> std::int64_t {
    const json::value* n = u->as_object().if_contains(key);
    if (n && n->is_int64()) return n->as_int64();
    if (n && n->is_uint64()) return static_cast<std::int64_t>(n->as_uint64());
    return -1;
  };
  out->prompt_tokens = num("prompt_tokens");
  out->completion_tokens = num("completion_tokens");
  out->total_tokens = num("total_tokens");
  return true;
}

SafeErrorFields ExtractSafeErrorFieldsFromObject(const json::value& error_object) {
  SafeErrorFields out;
  if (!error_object.is_object()) return out;
  const auto& e = error_object.as_object();
  auto take = [&](std::string_view key, bool (*allowed)(std::string_view)) -> std::string {
    const json::value* v = e.if_contains(key);
    if (v && v->is_string() && allowed(v->as_string())) return std::string(v->as_string());
    return "";
  };
  out.type = take("type", &IsKnownErrorWord);
  out.code = take("code", &IsKnownErrorWord);
  out.param = take("param", &IsParamPath);
  return out;
}

SafeErrorFields ExtractSafeErrorFields(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const json::value* e = v.as_object().if_contains("error");
  if (!e) return {};
  return ExtractSafeErrorFieldsFromObject(*e);
}

}  // namespace baagate::providers::openai
