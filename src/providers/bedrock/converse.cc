#include "providers/bedrock/converse.h"

#include "providers/bedrock/sigv4.h"
#include "providers/common/json_fields.h"
#include "providers/openai/openai.h"

namespace baagate::providers::bedrock {

namespace json = boost::json;
using json_fields::Str;
using json_fields::Obj;
using json_fields::Int;

bool BedrockUsesConverse(std::string_view bedrock_api, std::string_view model_id) {
  if (bedrock_api == "converse") return true;
  if (bedrock_api == "invoke") return false;
  const bool anthropic = model_id.rfind("anthropic.", 0) == 0 ||
                         model_id.find(".anthropic.") != std::string_view::npos;
  return !anthropic;
}

std::string BedrockRuntimePath(std::string_view model_id, bool converse, bool stream) {
  std::string path = "/model/" + EncodeModelIdSegment(model_id);
  if (converse) return path + (stream ? "/converse-stream" : "/converse");
  return path + (stream ? "/invoke-with-response-stream" : "/invoke");
}

namespace {

constexpr std::string_view kToConverse = "Bedrock Converse";

bool Fail(TranslateError* error, std::string param, std::string_view why) {
  error->message = "'" + param + "' cannot be translated to " + std::string(kToConverse) + ": " +
                   std::string(why);
  error->param = std::move(param);
  return false;
}

// ---- OpenAI chat -> Converse ------------------------------------------------------------------

// "data:image/png;base64,AAAA" -> {"image":{"format":"png","source":{"bytes":"AAAA"}}}. Converse
// takes bytes or an S3 location only, so https URLs are refused rather than fetched.
bool ImagePartToBlock(const json::object& part, const std::string& p, json::object* block,
                      TranslateError* error) {
  const json::string* url = json_fields::ImageUrl(part);
  if (url == nullptr) return Fail(error, p + ".image_url.url", "missing");
  const auto data = json_fields::ParseBase64DataUrl(*url);
  if (!data || data->media_type.rfind("image/", 0) != 0) {
    return Fail(error, p + ".image_url.url", "only base64 data URLs of images are supported");
  }
  std::string_view format = data->media_type.substr(6);
  if (format == "jpg") format = "jpeg";
  if (format != "png" && format != "jpeg" && format != "gif" && format != "webp") {
    return Fail(error, p + ".image_url.url", "only png, jpeg, gif and webp images are supported");
  }
  *block = json::object{
      {"image", {{"format", format}, {"source", {{"bytes", data->data}}}}}};
  return true;
}

// String or parts -> Converse content blocks. Empty text is skipped (Converse rejects it).
bool ContentToBlocks(const json::value& content, const std::string& p, bool images,
                     json::array* blocks, TranslateError* error) {
  if (content.is_string()) {
    if (!content.as_string().empty()) blocks->push_back(json::object{{"text", content}});
    return true;
  }
  if (content.is_null()) return true;
  if (!content.is_array()) return Fail(error, p, "must be a string or an array");
  const auto& parts = content.as_array();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string pp = p + "[" + std::to_string(i) + "]";
    if (!parts[i].is_object()) return Fail(error, pp, "must be an object");
    const auto& part = parts[i].as_object();
    const json::string* type = Str(part, "type");
    if (type != nullptr && *type == "text") {
      const json::string* text = Str(part, "text");
      if (text == nullptr) return Fail(error, pp + ".text", "missing");
      if (!text->empty()) blocks->push_back(json::object{{"text", *text}});
    } else if (type != nullptr && *type == "image_url" && images) {
      json::object block;
      if (!ImagePartToBlock(part, pp, &block, error)) return false;
      blocks->push_back(std::move(block));
    } else {
      return Fail(error, pp + ".type",
                  images ? "only text and image parts are supported" : "only text is supported");
    }
  }
  return true;
}

// Converse requires alternating turns; consecutive same-role turns (several tool results, or a
// tool result followed by a user message) are merged into one.
void AppendTurn(json::array& messages, std::string_view role, json::array blocks) {
  if (!messages.empty()) {
    auto& last = messages.back().as_object();
    if (last.at("role").as_string() == role) {
      auto& content = last["content"].as_array();
      for (auto& b : blocks) content.push_back(std::move(b));
      return;
    }
  }
  messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

bool AssistantToolCalls(const json::value& tc, const std::string& p, json::array* blocks,
                        TranslateError* error) {
  if (!tc.is_array()) return Fail(error, p + ".tool_calls", "must be an array");
  for (std::size_t k = 0; k < tc.as_array().size(); ++k) {
    const std::string tp = p + ".tool_calls[" + std::to_string(k) + "]";
    const json::value& call = tc.as_array()[k];
    const json::object* fn = call.is_object() ? Obj(call.as_object(), "function") : nullptr;
    if (fn == nullptr) return Fail(error, tp, "only function tool calls are supported");
    const json::string* id = Str(call.as_object(), "id");
    const json::string* name = Str(*fn, "name");
    const json::string* args = Str(*fn, "arguments");
    if (id == nullptr || name == nullptr || args == nullptr) {
      return Fail(error, tp, "id, function.name and function.arguments are required");
    }
    json::error_code ec;
    json::value input = json::parse(*args, ec);
    if (ec || !input.is_object()) {
      return Fail(error, tp + ".function.arguments", "must be a JSON object");
    }
    blocks->push_back(json::object{
        {"toolUse", {{"toolUseId", *id}, {"name", *name}, {"input", std::move(input)}}}});
  }
  return true;
}

bool TranslateMessages(const json::array& in, json::object* out, TranslateError* error) {
  json::array system;
  json::array messages;
  bool seen_turn = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!in[i].is_object()) return Fail(error, p, "must be an object");
    const auto& m = in[i].as_object();
    const json::string* role_s = Str(m, "role");
    if (role_s == nullptr) return Fail(error, p + ".role", "missing");
    const std::string_view role = *role_s;
    const json::value* content = m.if_contains("content");
    if (m.contains("name")) return Fail(error, p + ".name", "not supported");
    json::array blocks;
    if (role == "system" || role == "developer") {
      if (seen_turn) return Fail(error, p + ".role", "system messages must come first");
      if (content == nullptr) return Fail(error, p + ".content", "missing");
      if (!ContentToBlocks(*content, p + ".content", false, &blocks, error)) return false;
      for (auto& b : blocks) system.push_back(std::move(b));
      continue;
    }
    seen_turn = true;
    if (role == "user") {
      if (content == nullptr) return Fail(error, p + ".content", "missing");
      if (!ContentToBlocks(*content, p + ".content", true, &blocks, error)) return false;
      if (blocks.empty()) return Fail(error, p + ".content", "empty user turn");
      AppendTurn(messages, "user", std::move(blocks));
    } else if (role == "assistant") {
      if (m.contains("audio") || m.contains("function_call")) {
        return Fail(error, p, "audio and function_call are not supported");
      }
      if (content != nullptr &&
          !ContentToBlocks(*content, p + ".content", false, &blocks, error)) {
        return false;
      }
      if (const json::value* tc = m.if_contains("tool_calls"); tc && !tc->is_null()) {
        if (!AssistantToolCalls(*tc, p, &blocks, error)) return false;
      }
      if (blocks.empty()) return Fail(error, p + ".content", "empty assistant turn");
      AppendTurn(messages, "assistant", std::move(blocks));
    } else if (role == "tool") {
      const json::string* id = Str(m, "tool_call_id");
      if (id == nullptr) return Fail(error, p + ".tool_call_id", "missing");
      if (content == nullptr) return Fail(error, p + ".content", "missing");
      json::array result;
      if (!ContentToBlocks(*content, p + ".content", false, &result, error)) return false;
      if (result.empty()) result.push_back(json::object{{"text", ""}});
      blocks.push_back(json::object{
          {"toolResult", {{"toolUseId", *id}, {"content", std::move(result)}}}});
      AppendTurn(messages, "user", std::move(blocks));
    } else {
      return Fail(error, p + ".role", "unsupported role");
    }
  }
  if (messages.empty()) return Fail(error, "messages", "no user or assistant turn");
  if (messages.front().as_object().at("role").as_string() != "user") {
    return Fail(error, "messages", "the first turn must be the user's");
  }
  if (!system.empty()) (*out)["system"] = std::move(system);
  (*out)["messages"] = std::move(messages);
  return true;
}

bool TranslateTools(const json::object& chat, json::object* out, TranslateError* error) {
  json::array tools;
  if (const json::value* tv = chat.if_contains("tools"); tv && !tv->is_null()) {
    if (!tv->is_array()) return Fail(error, "tools", "must be an array");
    for (std::size_t i = 0; i < tv->as_array().size(); ++i) {
      const std::string p = "tools[" + std::to_string(i) + "]";
      const json::value& t = tv->as_array()[i];
      const json::object* fn = t.is_object() ? Obj(t.as_object(), "function") : nullptr;
      const json::string* type = t.is_object() ? Str(t.as_object(), "type") : nullptr;
      if (type == nullptr || *type != "function" || fn == nullptr) {
        return Fail(error, p + ".type", "only function tools are supported");
      }
      const json::string* name = Str(*fn, "name");
      if (name == nullptr) return Fail(error, p + ".function.name", "missing");
      if (const json::value* strict = fn->if_contains("strict");
          strict && strict->is_bool() && strict->as_bool()) {
        return Fail(error, p + ".function.strict", "strict schemas have no equivalent");
      }
      json::object spec{{"name", *name}};
      if (const json::string* d = Str(*fn, "description")) spec["description"] = *d;
      const json::value* params = fn->if_contains("parameters");
      spec["inputSchema"] = json::object{
          {"json", params != nullptr && params->is_object()
                       ? *params
                       : json::value(json::object{{"type", "object"}})}};
      tools.push_back(json::object{{"toolSpec", std::move(spec)}});
    }
  }
  json::object choice;
  if (const json::value* tc = chat.if_contains("tool_choice"); tc && !tc->is_null()) {
    const json::object* fn = tc->is_object() ? Obj(tc->as_object(), "function") : nullptr;
    if (tc->is_string() && tc->as_string() == "auto") {
      choice["auto"] = json::object();
    } else if (tc->is_string() && tc->as_string() == "required") {
      choice["any"] = json::object();
    } else if (tc->is_string() && tc->as_string() == "none") {
      return Fail(error, "tool_choice", "'none' has no equivalent; omit the tools instead");
    } else if (fn != nullptr && Str(*fn, "name") != nullptr) {
      choice["tool"] = json::object{{"name", *Str(*fn, "name")}};
    } else {
      return Fail(error, "tool_choice", "only auto, required and function are supported");
    }
  }
  if (const json::value* ptc = chat.if_contains("parallel_tool_calls");
      ptc && ptc->is_bool() && !ptc->as_bool()) {
    return Fail(error, "parallel_tool_calls", "disabling parallel tool calls has no equivalent");
  }
  if (tools.empty()) {
    if (!choice.empty()) return Fail(error, "tool_choice", "needs tools");
    return true;
  }
  json::object config{{"tools", std::move(tools)}};
  if (!choice.empty()) config["toolChoice"] = std::move(choice);
  (*out)["toolConfig"] = std::move(config);
  return true;
}

// requestMetadata is a string map that lands in invocation logs; the policy decides on it
// (C-META) and enforcement may strip it.
bool TranslateMetadata(const json::object& chat, json::object* out, TranslateError* error) {
  const json::value* md = chat.if_contains("metadata");
  if (md == nullptr || md->is_null()) return true;
  if (!md->is_object()) return Fail(error, "metadata", "must be an object");
  for (const auto& kv : md->as_object()) {
    if (!kv.value().is_string()) return Fail(error, "metadata", "values must be strings");
  }
  if (!md->as_object().empty()) (*out)["requestMetadata"] = md->as_object();
  return true;
}

// Chat fields this translator understands; anything else is refused (fail closed: an unknown
// field may change what the vendor does with the data). `user` and `safety_identifier` are
// abuse-monitoring hints with no Converse field: they are dropped, which sends less.
constexpr std::string_view kChatKnown[] = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
    "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "user",
    "safety_identifier", "store", "n", "metadata", "service_tier"};

}  // namespace

bool ChatRequestToConverse(const json::object& chat, json::object* out, TranslateError* error) {
  for (const auto& kv : chat) {
    bool known = false;
    for (std::string_view k : kChatKnown) known = known || kv.key() == k;
    if (!known) return Fail(error, std::string(kv.key()), "no Converse equivalent");
  }
  if (Int(chat, "n", 1) != 1) return Fail(error, "n", "only n=1 is supported");
  if (const json::value* st = chat.if_contains("store"); st && st->is_bool() && st->as_bool()) {
    return Fail(error, "store", "Bedrock does not store completions");
  }
  if (const json::string* tier = Str(chat, "service_tier");
      tier != nullptr && *tier != "auto" && *tier != "default") {
    return Fail(error, "service_tier", "only auto and default are supported");
  }
  const json::value* msgs = chat.if_contains("messages");
  if (msgs == nullptr || !msgs->is_array()) return Fail(error, "messages", "must be an array");
  out->clear();
  if (!TranslateMessages(msgs->as_array(), out, error)) return false;
  json::object inference;
  const std::int64_t max_tokens =
      Int(chat, "max_completion_tokens", Int(chat, "max_tokens", -1));
  if (max_tokens > 0) inference["maxTokens"] = max_tokens;
  if (const json::value* t = chat.if_contains("temperature"); t && t->is_number()) {
    inference["temperature"] = t->to_number<double>();
  }
  if (const json::value* tp = chat.if_contains("top_p"); tp && tp->is_number()) {
    inference["topP"] = tp->to_number<double>();
  }
  if (const json::value* stop = chat.if_contains("stop"); stop && !stop->is_null()) {
    json::array seqs;
    if (stop->is_string()) {
      seqs.push_back(stop->as_string());
    } else if (stop->is_array()) {
      for (const auto& s : stop->as_array()) {
        if (!s.is_string()) return Fail(error, "stop", "must hold strings");
        seqs.push_back(s);
      }
    } else {
      return Fail(error, "stop", "must be a string or an array");
    }
    inference["stopSequences"] = std::move(seqs);
  }
  if (!inference.empty()) (*out)["inferenceConfig"] = std::move(inference);
  if (!TranslateTools(chat, out, error)) return false;
  return TranslateMetadata(chat, out, error);
}

// ---- Converse -> OpenAI chat --------------------------------------------------------------------

void ReadConverseUsage(const json::object& usage, CanonicalUsage* out) {
  const std::int64_t in = Int(usage, "inputTokens", -1);
  const std::int64_t read = Int(usage, "cacheReadInputTokens", -1);
  const std::int64_t write = Int(usage, "cacheWriteInputTokens", -1);
  const std::int64_t output = Int(usage, "outputTokens", -1);
  if (in >= 0) out->input_tokens = in + (read > 0 ? read : 0) + (write > 0 ? write : 0);
  if (output >= 0) out->output_tokens = output;
  if (read >= 0) out->cached_input_tokens = read;
  if (write >= 0) out->cache_write_tokens = write;
}

namespace {

json::object OpenAiUsageFrom(const CanonicalUsage& u) {
  json::object usage{{"prompt_tokens", u.input_tokens < 0 ? 0 : u.input_tokens},
                     {"completion_tokens", u.output_tokens < 0 ? 0 : u.output_tokens},
                     {"total_tokens", u.total() < 0 ? 0 : u.total()}};
  if (u.cached_input_tokens >= 0) {
    usage["prompt_tokens_details"] = json::object{{"cached_tokens", u.cached_input_tokens}};
  }
  return usage;
}

void SetStopReason(std::string_view stop_reason, CanonicalOutcome* outcome) {
  outcome->finish = FromBedrockStopReason(stop_reason);
  if (outcome->finish == FinishReason::kContentFilter) outcome->content_filter = true;
}

}  // namespace

core::Result<std::string> ConverseToChatCompletion(std::string_view converse_body,
                                                   std::string_view client_model,
                                                   std::string_view id, std::int64_t created,
                                                   CanonicalOutcome* outcome) {
  json::error_code ec;
  json::value v = json::parse(converse_body, ec);
  const json::object* output = !ec && v.is_object() ? Obj(v.as_object(), "output") : nullptr;
  const json::object* message = output != nullptr ? Obj(*output, "message") : nullptr;
  const json::value* content = message != nullptr ? message->if_contains("content") : nullptr;
  if (content == nullptr || !content->is_array()) {
    return core::InvalidArgumentError("bedrock: response is not a Converse response");
  }
  const auto& resp = v.as_object();
  if (const json::string* sr = Str(resp, "stopReason")) SetStopReason(*sr, outcome);
  if (const json::object* u = Obj(resp, "usage")) ReadConverseUsage(*u, &outcome->usage);
  std::string text;
  bool has_text = false;
  json::array tool_calls;
  for (const auto& bv : content->as_array()) {
    if (!bv.is_object()) continue;
    const auto& b = bv.as_object();
    if (const json::string* t = Str(b, "text")) {
      text += std::string(*t);
      has_text = true;
    } else if (const json::object* tu = Obj(b, "toolUse");
               tu != nullptr && Str(*tu, "toolUseId") && Str(*tu, "name")) {
      const json::value* input = tu->if_contains("input");
      tool_calls.push_back(json::object{
          {"id", *Str(*tu, "toolUseId")},
          {"type", "function"},
          {"function",
           {{"name", *Str(*tu, "name")},
            {"arguments", input ? json::serialize(*input) : std::string("{}")}}}});
    }
    // reasoningContent and other blocks have no chat equivalent and are dropped.
  }
  json::object out_message{{"role", "assistant"}};
  out_message["content"] = has_text ? json::value(text) : json::value(nullptr);
  out_message["refusal"] = nullptr;
  if (!tool_calls.empty()) out_message["tool_calls"] = std::move(tool_calls);
  json::object out{
      {"id", "chatcmpl-" + std::string(id)},
      {"object", "chat.completion"},
      {"created", created},
      {"model", client_model},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", std::move(out_message)},
                                           {"logprobs", nullptr},
                                           {"finish_reason",
                                            ToOpenAiFinishReason(outcome->finish)}}}},
      {"usage", OpenAiUsageFrom(outcome->usage)}};
  return json::serialize(out);
}

std::string ConverseErrorToOpenAi(unsigned status, std::string_view converse_body) {
  (void)converse_body;  // Bedrock messages can echo ARNs, account ids or the prompt
  return openai::ErrorJson("The upstream provider returned an error.",
                           openai::ErrorTypeForStatus(status), "", "");
}

// ---- ConverseStream -> OpenAI chunks ------------------------------------------------------------

ConverseToOpenAiStream::ConverseToOpenAiStream(std::string client_model, std::string id,
                                               std::int64_t created, bool include_usage)
    : model_(std::move(client_model)), id_("chatcmpl-" + id), created_(created),
      include_usage_(include_usage) {}

std::string ConverseToOpenAiStream::Chunk(json::object delta, const json::value& finish) const {
  json::object chunk{{"id", id_},
                     {"object", "chat.completion.chunk"},
                     {"created", created_},
                     {"model", model_},
                     {"choices", json::array{json::object{{"index", 0},
                                                          {"delta", std::move(delta)},
                                                          {"logprobs", nullptr},
                                                          {"finish_reason", finish}}}}};
  return json::serialize(chunk);
}

void ConverseToOpenAiStream::Finish(std::vector<SseOut>* out) {
  if (done_) return;
  if (include_usage_) {
    json::object chunk{{"id", id_},
                       {"object", "chat.completion.chunk"},
                       {"created", created_},
                       {"model", model_},
                       {"choices", json::array()},
                       {"usage", OpenAiUsageFrom(outcome_.usage)}};
    out->push_back({"", json::serialize(chunk)});
  }
  out->push_back({"", "[DONE]"});
  done_ = true;
}

core::Status ConverseToOpenAiStream::OnMessage(std::string_view message_type,
                                               std::string_view type, std::string_view payload,
                                               std::vector<SseOut>* out) {
  if (done_) return core::Status::Ok();
  if (message_type != "event") {
    // exception or error: the message may quote the prompt; only the class is kept.
    outcome_.finish = FinishReason::kError;
    outcome_.error_class = "upstream_stream_error";
    std::string_view etype = "server_error";
    if (type == "throttlingException" || type == "serviceUnavailableException") {
      etype = "rate_limit_error";
    } else if (type == "validationException") {
      etype = "invalid_request_error";
    }
    out->push_back({"", openai::ErrorJson("The upstream provider reported an error mid-stream.",
                                          etype, "", "")});
    done_ = true;
    return core::Status::Ok();
  }
  json::error_code ec;
  json::value v = json::parse(payload, ec);
  if (ec || !v.is_object()) {
    return core::InvalidArgumentError("bedrock stream: event payload is not a JSON object");
  }
  const auto& d = v.as_object();
  const json::value null_finish;
  if (type == "messageStart") {
    out->push_back({"", Chunk(json::object{{"role", "assistant"}, {"content", ""}}, null_finish)});
  } else if (type == "contentBlockStart") {
    const json::object* start = Obj(d, "start");
    const json::object* tu = start != nullptr ? Obj(*start, "toolUse") : nullptr;
    if (tu == nullptr) return core::Status::Ok();
    const int tool = next_tool_++;
    tool_index_[Int(d, "contentBlockIndex", -1)] = tool;
    json::object call{
        {"index", tool},
        {"id", Str(*tu, "toolUseId") ? json::value(*Str(*tu, "toolUseId")) : json::value("")},
        {"type", "function"},
        {"function",
         {{"name", Str(*tu, "name") ? json::value(*Str(*tu, "name")) : json::value("")},
          {"arguments", ""}}}};
    out->push_back(
        {"", Chunk(json::object{{"tool_calls", json::array{std::move(call)}}}, null_finish)});
  } else if (type == "contentBlockDelta") {
    const json::object* delta = Obj(d, "delta");
    if (delta == nullptr) return core::Status::Ok();
    if (const json::string* text = Str(*delta, "text")) {
      out->push_back({"", Chunk(json::object{{"content", *text}}, null_finish)});
    } else if (const json::object* tu = Obj(*delta, "toolUse");
               tu != nullptr && Str(*tu, "input") != nullptr) {
      auto it = tool_index_.find(Int(d, "contentBlockIndex", -1));
      if (it == tool_index_.end()) return core::Status::Ok();
      json::object call{{"index", it->second},
                        {"function", {{"arguments", *Str(*tu, "input")}}}};
      out->push_back(
          {"", Chunk(json::object{{"tool_calls", json::array{std::move(call)}}}, null_finish)});
    }
    // reasoningContent deltas have no chat equivalent.
  } else if (type == "messageStop") {
    if (const json::string* sr = Str(d, "stopReason")) SetStopReason(*sr, &outcome_);
    stopped_ = true;
    out->push_back(
        {"", Chunk(json::object(), json::value(ToOpenAiFinishReason(outcome_.finish)))});
  } else if (type == "metadata") {
    if (const json::object* u = Obj(d, "usage")) ReadConverseUsage(*u, &outcome_.usage);
    Finish(out);
  }
  // contentBlockStop and unknown event types carry nothing a chat client sees.
  return core::Status::Ok();
}

}  // namespace baagate::providers::bedrock
