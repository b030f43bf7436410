#include "providers/anthropic/anthropic.h"

#include "core/log.h"
#include "providers/common/json_fields.h"
#include "providers/openai/openai.h"

namespace baagate::providers::anthropic {

namespace json = boost::json;

Endpoint ClassifyPath(std::string_view path) {
  if (path == "/v1/messages") return Endpoint::kMessages;
  if (path == "/v1/messages/count_tokens") return Endpoint::kCountTokens;
  return Endpoint::kUnknown;
}

std::string_view EndpointName(Endpoint e) {
  switch (e) {
    case Endpoint::kMessages: return "messages";
    case Endpoint::kCountTokens: return "count_tokens";
    case Endpoint::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view EndpointUpstreamPath(Endpoint e) {
  switch (e) {
    case Endpoint::kMessages: return "/v1/messages";
    case Endpoint::kCountTokens: return "/v1/messages/count_tokens";
    case Endpoint::kUnknown: return "";
  }
  return "";
}

std::string ErrorJson(std::string_view type, std::string_view message,
                      std::string_view request_id) {
  std::string out = R"({"type":"error","error":{"type":)";
  core::AppendJsonString(out, type);
  out += ",\"message\":";
  core::AppendJsonString(out, message);
  out += '}';
  if (!request_id.empty()) {
    out += ",\"request_id\":";
    core::AppendJsonString(out, request_id);
  }
  out += '}';
  return out;
}

std::string ErrorJsonForPath(unsigned status, std::string_view code, std::string_view message,
                             std::string_view path) {
  if (ClassifyPath(path) != Endpoint::kUnknown || path.rfind("/v1/messages", 0) == 0) {
    return ErrorJson(ErrorTypeForStatus(status), message);
  }
  return openai::ErrorJsonForStatus(status, code, message);
}

std::string_view ErrorTypeForStatus(unsigned status) {
  switch (status) {
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 504: return "timeout_error";
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string_view KnownErrorType(std::string_view type) {
  static constexpr std::string_view kKnown[] = {
      "invalid_request_error", "authentication_error", "billing_error", "permission_error",
      "not_found_error", "request_too_large", "rate_limit_error", "api_error", "timeout_error",
      "overloaded_error"};
  for (std::string_view k : kKnown) {
    if (k == type) return k;
  }
  return {};
}

std::string SafeErrorType(std::string_view body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const json::value* e = v.as_object().if_contains("error");
  if (e == nullptr || !e->is_object()) return "";
  const json::value* t = e->as_object().if_contains("type");
  if (t == nullptr || !t->is_string()) return "";
  return std::string(KnownErrorType(t->as_string()));
}

namespace {

bool Fail(RequestError* error, std::string message) {
  error->message = std::move(message);
  return false;
}

bool ValidateMessages(const json::object& body, RequestError* error) {
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr) return Fail(error, "messages: Field required");
  if (!messages->is_array() || messages->as_array().empty()) {
    return Fail(error, "messages: must be a non-empty array");
  }
  const auto& arr = messages->as_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string p = "messages." + std::to_string(i);
    if (!arr[i].is_object()) return Fail(error, p + ": must be an object");
    const json::value* role = arr[i].as_object().if_contains("role");
    if (role == nullptr || !role->is_string() ||
        (role->as_string() != "user" && role->as_string() != "assistant")) {
      return Fail(error, p + ".role: must be 'user' or 'assistant'");
    }
    const json::value* content = arr[i].as_object().if_contains("content");
    if (content == nullptr || !(content->is_string() || content->is_array())) {
      return Fail(error, p + ".content: must be a string or an array of content blocks");
    }
  }
  return true;
}

std::int64_t IntField(const json::object& o, std::string_view name, std::int64_t fallback) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return fallback;
}

}  // namespace

bool ParseRequest(Endpoint endpoint, std::string_view body, ParsedRequest* out,
                  RequestError* error) {
  out->endpoint = endpoint;
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) return Fail(error, "The request body is not valid JSON.");
  if (!v.is_object()) return Fail(error, "The request body must be a JSON object.");
  out->body = std::move(v.as_object());
  const json::value* model = out->body.if_contains("model");
  if (model == nullptr) return Fail(error, "model: Field required");
  if (!model->is_string() || model->as_string().empty()) {
    return Fail(error, "model: must be a non-empty string");
  }
  out->model = std::string(model->as_string());
  if (!ValidateMessages(out->body, error)) return false;
  if (endpoint == Endpoint::kMessages) {
    const json::value* mt = out->body.if_contains("max_tokens");
    if (mt == nullptr) return Fail(error, "max_tokens: Field required");
    if (IntField(out->body, "max_tokens", 0) < 1) {
      return Fail(error, "max_tokens: must be a positive integer");
    }
    if (const json::value* s = out->body.if_contains("stream")) {
      if (!s->is_bool()) return Fail(error, "stream: must be a boolean");
      out->stream = s->as_bool();
    }
  } else if (endpoint == Endpoint::kCountTokens) {
    if (out->body.contains("stream")) return Fail(error, "stream: Extra inputs are not permitted");
  } else {
    return Fail(error, "Unknown endpoint.");
  }
  return true;
}

std::string EncodeUpstreamBody(ParsedRequest& req, std::string_view upstream_model) {
  req.body["model"] = upstream_model;
  return json::serialize(req.body);
}

void MergeUsage(const json::object& usage, CanonicalUsage* out) {
  const std::int64_t input = IntField(usage, "input_tokens", -1);
  const std::int64_t cache_write = IntField(usage, "cache_creation_input_tokens", -1);
  const std::int64_t cache_read = IntField(usage, "cache_read_input_tokens", -1);
  const std::int64_t output = IntField(usage, "output_tokens", -1);
  if (input >= 0) {
    out->input_tokens = input + (cache_write > 0 ? cache_write : 0) +
                        (cache_read > 0 ? cache_read : 0);
  }
  if (cache_write >= 0) out->cache_write_tokens = cache_write;
  if (cache_read >= 0) out->cached_input_tokens = cache_read;
  if (output >= 0) out->output_tokens = output;
}

void ReadMessageOutcome(const json::object& message, CanonicalOutcome* out) {
  json_fields::NoteServedModel(message, "model", &out->model);
  if (const json::value* sr = message.if_contains("stop_reason"); sr && sr->is_string()) {
    out->finish = FromAnthropicStopReason(sr->as_string());
    if (out->finish == FinishReason::kContentFilter) out->content_filter = true;
  }
  if (const json::value* u = message.if_contains("usage"); u && u->is_object()) {
    MergeUsage(u->as_object(), &out->usage);
  }
}

core::Status StreamObserver::OnEvent(std::string_view event, std::string_view data) {
  json::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return core::InvalidArgumentError("anthropic stream: event data is not a JSON object");
  }
  std::string_view type = event;
  if (const json::value* t = v.as_object().if_contains("type"); t && t->is_string()) {
    type = t->as_string();
  }
  OnParsedEvent(type, v.as_object());
  return core::Status::Ok();
}

void StreamObserver::OnParsedEvent(std::string_view type, const json::object& data) {
  if (type == "message_start") {
    if (const json::value* m = data.if_contains("message"); m && m->is_object()) {
      if (const json::value* id = m->as_object().if_contains("id"); id && id->is_string()) {
        message_id_ = std::string(id->as_string());
      }
      ReadMessageOutcome(m->as_object(), &outcome_);
    }
  } else if (type == "message_delta") {
    if (const json::value* d = data.if_contains("delta"); d && d->is_object()) {
      ReadMessageOutcome(d->as_object(), &outcome_);
    }
    if (const json::value* u = data.if_contains("usage"); u && u->is_object()) {
      MergeUsage(u->as_object(), &outcome_.usage);
    }
  } else if (type == "message_stop") {
    done_ = true;
  } else if (type == "error") {
    done_ = true;
    errored_ = true;
    outcome_.finish = FinishReason::kError;
    outcome_.error_class = "upstream_stream_error";
  }
}

}  // namespace baagate::providers::anthropic
