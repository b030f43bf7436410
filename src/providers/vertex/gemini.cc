#include "providers/vertex/gemini.h"

#include <map>

#include "providers/common/json_fields.h"
#include "providers/openai/openai.h"

namespace baagate::providers::vertex {

namespace json = boost::json;
using json_fields::Str;
using json_fields::Int;

namespace {

constexpr std::string_view kToGemini = "Vertex AI generateContent";

bool Fail(TranslateError* error, std::string param, std::string_view why) {
  error->message = "'" + param + "' cannot be translated to " + std::string(kToGemini) + ": " +
                   std::string(why);
  error->param = std::move(param);
  return false;
}

// "data:image/png;base64,AAAA" -> inlineData. Remote URLs would make Google fetch content on
// the gateway's behalf (a recipient nobody has checked), so only inline data translates.
bool ImagePart(const json::object& part, const std::string& p, json::array* parts,
               TranslateError* error) {
  const json::string* url = json_fields::ImageUrl(part);
  if (url == nullptr) return Fail(error, p + ".image_url.url", "missing");
  const auto data = json_fields::ParseBase64DataUrl(*url);
  if (!data) return Fail(error, p + ".image_url.url", "only base64 data URLs are supported");
  parts->push_back(
      json::object{{"inlineData", {{"mimeType", data->media_type}, {"data", data->data}}}});
  return true;
}

bool ContentToParts(const json::value& content, const std::string& p, bool text_only,
                    json::array* parts, TranslateError* error) {
  if (content.is_null()) return true;
  if (content.is_string()) {
    if (!content.as_string().empty()) parts->push_back(json::object{{"text", content.as_string()}});
    return true;
  }
  if (!content.is_array()) return Fail(error, p, "must be a string or an array");
  const auto& arr = content.as_array();
  for (std::size_t i = 0; i < arr.size(); ++i) {
    const std::string pp = p + "[" + std::to_string(i) + "]";
    if (!arr[i].is_object()) return Fail(error, pp, "must be an object");
    const auto& part = arr[i].as_object();
    const json::string* type = Str(part, "type");
    if (type != nullptr && *type == "text" && Str(part, "text") != nullptr) {
      parts->push_back(json::object{{"text", *Str(part, "text")}});
    } else if (!text_only && type != nullptr && *type == "image_url") {
      if (!ImagePart(part, pp, parts, error)) return false;
    } else {
      return Fail(error, pp + ".type",
                  text_only ? "only text parts are supported here"
                            : "only text and image parts are supported");
    }
  }
  return true;
}

// Consecutive turns of one role share a Content (parallel function responses must).
void AppendContent(json::array& contents, std::string_view role, json::array parts) {
  if (parts.empty()) return;
  if (!contents.empty()) {
    auto& last = contents.back().as_object();
    if (last.at("role").as_string() == role) {
      auto& lp = last["parts"].as_array();
      for (auto& x : parts) lp.push_back(std::move(x));
      return;
    }
  }
  contents.push_back(json::object{{"role", role}, {"parts", std::move(parts)}});
}

bool TranslateMessages(const json::array& in, json::object* out, TranslateError* error) {
  json::array system;
  json::array contents;
  std::map<std::string, std::string> call_names;  // tool_call id -> function name
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    if (!in[i].is_object()) return Fail(error, p, "must be an object");
    const auto& m = in[i].as_object();
    const json::string* role = Str(m, "role");
    if (role == nullptr) return Fail(error, p + ".role", "missing");
    const json::value* content = m.if_contains("content");
    const json::value null_content;
    const json::value& c = content != nullptr ? *content : null_content;
    if (*role == "system" || *role == "developer") {
      if (!ContentToParts(c, p + ".content", true, &system, error)) return false;
    } else if (*role == "user") {
      json::array parts;
      if (!ContentToParts(c, p + ".content", false, &parts, error)) return false;
      AppendContent(contents, "user", std::move(parts));
    } else if (*role == "assistant") {
      json::array parts;
      if (!ContentToParts(c, p + ".content", true, &parts, error)) return false;
      if (const json::value* tc = m.if_contains("tool_calls"); tc != nullptr && tc->is_array()) {
        for (std::size_t k = 0; k < tc->as_array().size(); ++k) {
          const std::string tp = p + ".tool_calls[" + std::to_string(k) + "]";
          const json::value& call = tc->as_array()[k];
          const json::value* fn = call.is_object() ? call.as_object().if_contains("function") : nullptr;
          if (fn == nullptr || !fn->is_object() || Str(fn->as_object(), "name") == nullptr) {
            return Fail(error, tp + ".function", "only function calls are supported");
          }
          const json::string* args = Str(fn->as_object(), "arguments");
          json::error_code ec;
          json::value parsed = args != nullptr ? json::parse(*args, ec) : json::value(json::object());
          if (ec || !parsed.is_object()) {
            return Fail(error, tp + ".function.arguments", "must be a JSON object");
          }
          json::object fc{{"name", *Str(fn->as_object(), "name")}, {"args", std::move(parsed)}};
          if (const json::string* id = Str(call.as_object(), "id")) {
            call_names[std::string(*id)] = std::string(*Str(fn->as_object(), "name"));
            fc["id"] = *id;
          }
          parts.push_back(json::object{{"functionCall", std::move(fc)}});
        }
      }
      AppendContent(contents, "model", std::move(parts));
    } else if (*role == "tool") {
      const json::string* id = Str(m, "tool_call_id");
      auto it = id != nullptr ? call_names.find(std::string(*id)) : call_names.end();
      if (it == call_names.end()) {
        return Fail(error, p + ".tool_call_id", "does not name an earlier assistant tool call");
      }
      json::array text_parts;
      if (!ContentToParts(c, p + ".content", true, &text_parts, error)) return false;
      std::string text;
      for (const auto& tp : text_parts) text += std::string(tp.as_object().at("text").as_string());
      json::object fr{{"id", *id}, {"name", it->second}, {"response", {{"content", text}}}};
      AppendContent(contents, "user", json::array{json::object{{"functionResponse", std::move(fr)}}});
    } else {
      return Fail(error, p + ".role", "unsupported role");
    }
  }
  if (contents.empty()) return Fail(error, "messages", "needs at least one user or assistant turn");
  (*out)["contents"] = std::move(contents);
  if (!system.empty()) (*out)["systemInstruction"] = json::object{{"parts", std::move(system)}};
  return true;
}

bool TranslateTools(const json::object& chat, json::object* out, TranslateError* error) {
  if (const json::value* tools = chat.if_contains("tools"); tools != nullptr && !tools->is_null()) {
    if (!tools->is_array()) return Fail(error, "tools", "must be an array");
    json::array decls;
    for (std::size_t i = 0; i < tools->as_array().size(); ++i) {
      const std::string p = "tools[" + std::to_string(i) + "]";
      const json::value& t = tools->as_array()[i];
      const json::string* type = t.is_object() ? Str(t.as_object(), "type") : nullptr;
      const json::value* fn = t.is_object() ? t.as_object().if_contains("function") : nullptr;
      if (type == nullptr || *type != "function" || fn == nullptr || !fn->is_object() ||
          Str(fn->as_object(), "name") == nullptr) {
        return Fail(error, p + ".type", "only function tools are supported");
      }
      const auto& f = fn->as_object();
      json::object d{{"name", *Str(f, "name")}};
      if (const json::string* desc = Str(f, "description")) d["description"] = *desc;
      if (const json::value* params = f.if_contains("parameters"); params && params->is_object()) {
        d["parameters"] = *params;
      }
      if (f.contains("strict")) return Fail(error, p + ".function.strict", "not supported");
      decls.push_back(std::move(d));
    }
    if (!decls.empty()) {
      (*out)["tools"] = json::array{json::object{{"functionDeclarations", std::move(decls)}}};
    }
  }
  // OpenAI's web search maps to Grounding with Google Search, so the policy decides on the
  // feature that actually leaves (PROVIDERS.md §6.7: it stores prompts for 30 days).
  if (const json::value* ws = chat.if_contains("web_search_options"); ws && !ws->is_null()) {
    if (!out->contains("tools")) (*out)["tools"] = json::array();
    (*out)["tools"].as_array().push_back(json::object{{"googleSearch", json::object()}});
  }
  if (const json::value* tc = chat.if_contains("tool_choice"); tc != nullptr && !tc->is_null()) {
    json::object cfg;
    if (tc->is_string() && tc->as_string() == "auto") {
      cfg["mode"] = "AUTO";
    } else if (tc->is_string() && tc->as_string() == "none") {
      cfg["mode"] = "NONE";
    } else if (tc->is_string() && tc->as_string() == "required") {
      cfg["mode"] = "ANY";
    } else if (tc->is_object() && tc->as_object().if_contains("function") &&
               tc->as_object().at("function").is_object() &&
               Str(tc->as_object().at("function").as_object(), "name")) {
      cfg["mode"] = "ANY";
      cfg["allowedFunctionNames"] =
          json::array{*Str(tc->as_object().at("function").as_object(), "name")};
    } else {
      return Fail(error, "tool_choice", "unsupported value");
    }
    (*out)["toolConfig"] = json::object{{"functionCallingConfig", std::move(cfg)}};
  }
  return true;
}

bool TranslateGenerationConfig(const json::object& chat, json::object* out, TranslateError* error) {
  json::object gc;
  std::int64_t max_tokens = Int(chat, "max_completion_tokens", Int(chat, "max_tokens", -1));
  if (max_tokens > 0) gc["maxOutputTokens"] = max_tokens;
  for (auto [from, to] : {std::pair<std::string_view, std::string_view>{"temperature", "temperature"},
                          {"top_p", "topP"},
                          {"presence_penalty", "presencePenalty"},
                          {"frequency_penalty", "frequencyPenalty"},
                          {"seed", "seed"}}) {
    const json::value* v = chat.if_contains(from);
    if (v == nullptr || v->is_null()) continue;
    if (!v->is_number()) return Fail(error, std::string(from), "must be a number");
    gc[to] = *v;
  }
  if (const json::value* n = chat.if_contains("n"); n != nullptr && !n->is_null()) {
    if (Int(chat, "n", 0) != 1) return Fail(error, "n", "only n=1 is supported");
  }
  if (const json::value* stop = chat.if_contains("stop"); stop != nullptr && !stop->is_null()) {
    if (stop->is_string()) {
      gc["stopSequences"] = json::array{stop->as_string()};
    } else if (stop->is_array()) {
      gc["stopSequences"] = *stop;
    } else {
      return Fail(error, "stop", "must be a string or an array");
    }
  }
  if (const json::value* rf = chat.if_contains("response_format"); rf != nullptr && !rf->is_null()) {
    const json::string* type = rf->is_object() ? Str(rf->as_object(), "type") : nullptr;
    if (type != nullptr && *type == "json_object") {
      gc["responseMimeType"] = "application/json";
    } else if (type != nullptr && *type == "json_schema") {
      const json::value* js = rf->as_object().if_contains("json_schema");
      const json::value* schema =
          js != nullptr && js->is_object() ? js->as_object().if_contains("schema") : nullptr;
      if (schema == nullptr || !schema->is_object()) {
        return Fail(error, "response_format.json_schema.schema", "missing");
      }
      gc["responseMimeType"] = "application/json";
      gc["responseSchema"] = *schema;
    } else if (type == nullptr || *type != "text") {
      return Fail(error, "response_format.type", "unsupported value");
    }
  }
  if (!gc.empty()) (*out)["generationConfig"] = std::move(gc);
  return true;
}

json::object UsageJson(const CanonicalUsage& u) {
  const std::int64_t in = u.input_tokens < 0 ? 0 : u.input_tokens;
  const std::int64_t out = u.output_tokens < 0 ? 0 : u.output_tokens;
  json::object usage{{"prompt_tokens", in}, {"completion_tokens", out}, {"total_tokens", in + out}};
  if (u.cached_input_tokens > 0) {
    usage["prompt_tokens_details"] = json::object{{"cached_tokens", u.cached_input_tokens}};
  }
  return usage;
}

// The first candidate (the translators ask for one), or null.
const json::object* FirstCandidate(const json::object& response) {
  const json::value* c = response.if_contains("candidates");
  if (c == nullptr || !c->is_array() || c->as_array().empty() || !c->as_array()[0].is_object()) {
    return nullptr;
  }
  return &c->as_array()[0].as_object();
}

// Text and function calls of a candidate's parts. `next_tool` numbers synthesised call ids.
void ReadParts(const json::object& candidate, std::string* text, bool* has_text,
               json::array* calls, int* next_tool) {
  const json::value* content = candidate.if_contains("content");
  const json::value* parts = content != nullptr && content->is_object()
                                 ? content->as_object().if_contains("parts")
                                 : nullptr;
  if (parts == nullptr || !parts->is_array()) return;
  for (const auto& pv : parts->as_array()) {
    if (!pv.is_object()) continue;
    const auto& part = pv.as_object();
    if (part.contains("thought")) continue;  // thought summaries have no chat equivalent
    if (const json::string* t = Str(part, "text")) {
      *text += std::string(*t);
      *has_text = true;
    } else if (const json::value* fc = part.if_contains("functionCall"); fc && fc->is_object()) {
      const auto& f = fc->as_object();
      const int index = (*next_tool)++;
      const json::string* id = Str(f, "id");
      const json::value* args = f.if_contains("args");
      calls->push_back(json::object{
          {"index", index},
          {"id", id != nullptr ? std::string(*id) : "call_" + std::to_string(index)},
          {"type", "function"},
          {"function",
           {{"name", Str(f, "name") ? json::value(*Str(f, "name")) : json::value("")},
            {"arguments", args != nullptr ? json::serialize(*args) : std::string("{}")}}}});
    }
  }
}

}  // namespace

bool ChatRequestToGenerateContent(const json::object& chat, json::object* out,
                                  TranslateError* error) {
  // Every field is either translated, dropped for a stated reason, or refused: an unknown field
  // silently dropped could change what the model does.
  static const std::vector<std::string_view> kKnown = {
      "model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
      "temperature", "top_p", "presence_penalty", "frequency_penalty", "seed", "n", "stop",
      "response_format", "tools", "tool_choice", "web_search_options",
      // Dropped: parallel_tool_calls (Gemini decides), store (Vertex keeps no completions),
      // user (an end-user id has no Vertex field; never forwarded).
      "parallel_tool_calls", "store", "user"};
  for (const auto& [k, v] : chat) {
    (void)v;
    if (std::find(kKnown.begin(), kKnown.end(), std::string_view(k)) == kKnown.end()) {
      return Fail(error, std::string(k), "not supported");
    }
  }
  if (const json::value* st = chat.if_contains("store"); st && st->is_bool() && st->as_bool()) {
    return Fail(error, "store", "Vertex AI does not store completions");
  }
  const json::value* messages = chat.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) return Fail(error, "messages", "missing");
  return TranslateMessages(messages->as_array(), out, error) && TranslateTools(chat, out, error) &&
         TranslateGenerationConfig(chat, out, error);
}

void ReadGeminiOutcome(const json::object& response, CanonicalOutcome* outcome) {
  json_fields::NoteServedModel(response, "modelVersion", &outcome->model);
  if (const json::value* um = response.if_contains("usageMetadata"); um && um->is_object()) {
    const auto& u = um->as_object();
    const std::int64_t prompt = Int(u, "promptTokenCount", -1);
    if (prompt >= 0) outcome->usage.input_tokens = prompt;
    const std::int64_t cand = Int(u, "candidatesTokenCount", -1);
    const std::int64_t thoughts = Int(u, "thoughtsTokenCount", 0);
    if (cand >= 0 || thoughts > 0) outcome->usage.output_tokens = std::max<std::int64_t>(cand, 0) + thoughts;
    const std::int64_t cached = Int(u, "cachedContentTokenCount", -1);
    if (cached >= 0) outcome->usage.cached_input_tokens = cached;
  }
  if (const json::value* pf = response.if_contains("promptFeedback"); pf && pf->is_object()) {
    if (Str(pf->as_object(), "blockReason") != nullptr) {
      outcome->finish = FinishReason::kContentFilter;
      outcome->content_filter = true;
      return;
    }
  }
  if (const json::object* c = FirstCandidate(response)) {
    if (const json::string* fr = Str(*c, "finishReason")) {
      outcome->finish = FromVertexFinishReason(*fr);
      if (outcome->finish == FinishReason::kUnknown) outcome->finish = FinishReason::kStop;
      outcome->content_filter = outcome->finish == FinishReason::kContentFilter;
    }
  }
  if (const json::string* id = Str(response, "responseId")) {
    outcome->upstream_request_id = std::string(id->subview().substr(0, 128));
  }
}

core::Result<std::string> GenerateContentToChatCompletion(std::string_view gemini_body,
                                                          std::string_view client_model,
                                                          std::int64_t created,
                                                          CanonicalOutcome* outcome) {
  json::error_code ec;
  json::value v = json::parse(gemini_body, ec);
  if (ec || !v.is_object() ||
      (!v.as_object().contains("candidates") && !v.as_object().contains("promptFeedback"))) {
    return core::InvalidArgumentError("vertex: response is not a GenerateContentResponse");
  }
  const auto& r = v.as_object();
  ReadGeminiOutcome(r, outcome);
  std::string text;
  bool has_text = false;
  json::array calls;
  int next_tool = 0;
  if (const json::object* c = FirstCandidate(r)) ReadParts(*c, &text, &has_text, &calls, &next_tool);
  if (!calls.empty() && outcome->finish == FinishReason::kStop) outcome->finish = FinishReason::kToolCalls;
  if (outcome->finish == FinishReason::kUnknown) outcome->finish = FinishReason::kStop;
  for (auto& c : calls) c.as_object().erase("index");
  json::object message{{"role", "assistant"}};
  message["content"] = has_text ? json::value(text) : json::value(nullptr);
  message["refusal"] = nullptr;
  if (!calls.empty()) message["tool_calls"] = std::move(calls);
  std::string id = "chatcmpl-vertex";
  if (const json::string* rid = Str(r, "responseId")) id = "chatcmpl-" + std::string(*rid);
  json::object out{
      {"id", id},
      {"object", "chat.completion"},
      {"created", created},
      {"model", client_model},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", std::move(message)},
                                           {"logprobs", nullptr},
                                           {"finish_reason", ToOpenAiFinishReason(outcome->finish)}}}},
      {"usage", UsageJson(outcome->usage)}};
  return json::serialize(out);
}

std::string GoogleErrorToOpenAi(unsigned status, std::string_view google_body) {
  (void)google_body;  // Google's message may quote the request; only the status is used
  return openai::ErrorJson("The upstream provider returned an error.",
                           openai::ErrorTypeForStatus(status), "", "");
}

GeminiToOpenAiStream::GeminiToOpenAiStream(std::string client_model, std::int64_t created,
                                           bool include_usage)
    : model_(std::move(client_model)), created_(created), include_usage_(include_usage) {}

std::string GeminiToOpenAiStream::Chunk(json::object delta, const json::value& finish) const {
  return json::serialize(json::object{
      {"id", id_},
      {"object", "chat.completion.chunk"},
      {"created", created_},
      {"model", model_},
      {"choices", json::array{json::object{{"index", 0},
                                           {"delta", std::move(delta)},
                                           {"logprobs", nullptr},
                                           {"finish_reason", finish}}}}});
}

void GeminiToOpenAiStream::Finish(std::vector<SseOut>* out) {
  if (tools_ > 0 && outcome_.finish == FinishReason::kStop) outcome_.finish = FinishReason::kToolCalls;
  out->push_back({"", Chunk(json::object(), json::value(ToOpenAiFinishReason(outcome_.finish)))});
  if (include_usage_) {
    out->push_back({"", json::serialize(json::object{{"id", id_},
                                                     {"object", "chat.completion.chunk"},
                                                     {"created", created_},
                                                     {"model", model_},
                                                     {"choices", json::array()},
                                                     {"usage", UsageJson(outcome_.usage)}})});
  }
  out->push_back({"", "[DONE]"});
  done_ = true;
}

core::Status GeminiToOpenAiStream::OnData(std::string_view data, std::vector<SseOut>* out) {
  if (done_) return core::Status::Ok();
  json::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return core::InvalidArgumentError("vertex stream: event data is not a JSON object");
  }
  const auto& r = v.as_object();
  if (r.contains("error")) {
    outcome_.finish = FinishReason::kError;
    outcome_.error_class = "upstream_error";
    out->push_back({"", openai::ErrorJson("The upstream provider reported an error mid-stream.",
                                          "server_error", "", "")});
    done_ = true;
    return core::Status::Ok();
  }
  const json::value null_finish;
  if (!started_) {
    started_ = true;
    if (const json::string* rid = Str(r, "responseId")) id_ = "chatcmpl-" + std::string(*rid);
    out->push_back({"", Chunk(json::object{{"role", "assistant"}, {"content", ""}}, null_finish)});
  }
  ReadGeminiOutcome(r, &outcome_);
  if (const json::object* c = FirstCandidate(r)) {
    std::string text;
    bool has_text = false;
    json::array calls;
    ReadParts(*c, &text, &has_text, &calls, &tools_);
    if (has_text && !text.empty()) {
      out->push_back({"", Chunk(json::object{{"content", text}}, null_finish)});
    }
    // Gemini sends each function call whole; OpenAI clients accept a call in one delta.
    for (auto& call : calls) {
      out->push_back({"", Chunk(json::object{{"tool_calls", json::array{std::move(call)}}},
                                null_finish)});
    }
  }
  if (outcome_.finish != FinishReason::kUnknown) Finish(out);
  return core::Status::Ok();
}

}  // namespace baagate::providers::vertex
