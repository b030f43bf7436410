#include "providers/anthropic/translate.h"

#include "providers/common/json_fields.h"
#include "providers/openai/openai.h"

namespace baagate::providers::anthropic {

namespace json = boost::json;
using json_fields::Str;
using json_fields::Int;

namespace {

bool Fail(TranslateError* error, std::string param, std::string_view why,
          std::string_view dialect) {
  error->message = "'" + param + "' cannot be translated to " + std::string(dialect) + ": " +
                   std::string(why);
  error->param = std::move(param);
  return false;
}

constexpr std::string_view kToAnthropic = "Anthropic Messages";
constexpr std::string_view kToOpenAi = "OpenAI Chat Completions";

// ---- OpenAI chat -> Anthropic messages -------------------------------------------------------

// "data:image/png;base64,AAAA" -> image block with a base64 source; https URLs -> url source.
bool ImagePartToBlock(const json::object& part, const std::string& p, json::object* block,
                      TranslateError* error) {
  const json::string* url = json_fields::ImageUrl(part);
  if (url == nullptr) return Fail(error, p + ".image_url.url", "missing", kToAnthropic);
  std::string_view u = *url;
  (*block)["type"] = "image";
  json::object source;
  if (u.rfind("data:", 0) == 0) {
    const auto data = json_fields::ParseBase64DataUrl(u);
    if (!data) {
      return Fail(error, p + ".image_url.url", "only base64 data URLs are supported",
                  kToAnthropic);
    }
    source["type"] = "base64";
    source["media_type"] = data->media_type;
    source["data"] = data->data;
  } else if (u.rfind("https://", 0) == 0) {
    source["type"] = "url";
    source["url"] = u;
  } else {
    return Fail(error, p + ".image_url.url", "unsupported URL scheme", kToAnthropic);
  }
  (*block)["source"] = std::move(source);
  return true;
}

bool ContentToBlocks(const json::value& content, const std::string& p, json::array* blocks,
                     TranslateError* error) {
  if (content.is_string()) {
    if (!content.as_string().empty()) {
      blocks->push_back(json::object{{"type", "text"}, {"text", content.as_string()}});
    }
    return true;
  }
  if (content.is_null()) return true;
  if (!content.is_array()) return Fail(error, p, "must be a string or an array", kToAnthropic);
  const auto& parts = content.as_array();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string pp = p + "[" + std::to_string(i) + "]";
    if (!parts[i].is_object()) return Fail(error, pp, "must be an object", kToAnthropic);
    const auto& part = parts[i].as_object();
    const json::string* type = Str(part, "type");
    if (type != nullptr && *type == "text") {
      const json::string* text = Str(part, "text");
      if (text == nullptr) return Fail(error, pp + ".text", "missing", kToAnthropic);
      blocks->push_back(json::object{{"type", "text"}, {"text", *text}});
    } else if (type != nullptr && *type == "image_url") {
      json::object block;
      if (!ImagePartToBlock(part, pp, &block, error)) return false;
      blocks->push_back(std::move(block));
    } else {
      return Fail(error, pp + ".type", "only text and image parts are supported", kToAnthropic);
    }
  }
  return true;
}

std::string SystemText(const json::value& content, const std::string& p, bool* ok,
                       TranslateError* error) {
  json::array blocks;
  *ok = ContentToBlocks(content, p, &blocks, error);
  std::string text;
  for (const auto& b : blocks) {
    if (b.as_object().at("type").as_string() != "text") {
      *ok = Fail(error, p, "system messages may hold text only", kToAnthropic);
      return "";
    }
    if (!text.empty()) text += "\n";
    text += std::string(b.as_object().at("text").as_string());
  }
  return text;
}

// Appends blocks to the last message when it has the same role (Anthropic merges consecutive
// turns; tool results must share one user turn).
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

bool TranslateChatMessages(const json::array& in, json::object* out, TranslateError* error) {
  json::array system;
  json::array messages;
  bool seen_turn = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string p = "messages[" + std::to_string(i) + "]";
    const auto& m = in[i].as_object();
    const std::string_view role = m.at("role").as_string();
    const json::value* content = m.if_contains("content");
    if (m.contains("name")) return Fail(error, p + ".name", "not supported", kToAnthropic);
    if (role == "system" || role == "developer") {
      if (seen_turn) {
        return Fail(error, p + ".role", "system messages must come first", kToAnthropic);
      }
      bool ok = true;
      std::string text = SystemText(content ? *content : json::value(), p + ".content", &ok, error);
      if (!ok) return false;
      system.push_back(json::object{{"type", "text"}, {"text", text}});
      continue;
    }
    seen_turn = true;
    json::array blocks;
    if (role == "user") {
      if (content == nullptr) return Fail(error, p + ".content", "missing", kToAnthropic);
      if (!ContentToBlocks(*content, p + ".content", &blocks, error)) return false;
      AppendTurn(messages, "user", std::move(blocks));
    } else if (role == "assistant") {
      if (content != nullptr && !ContentToBlocks(*content, p + ".content", &blocks, error)) {
        return false;
      }
      if (m.contains("audio") || m.contains("function_call")) {
        return Fail(error, p, "audio and function_call are not supported", kToAnthropic);
      }
      if (const json::value* tc = m.if_contains("tool_calls"); tc && tc->is_array()) {
        for (std::size_t k = 0; k < tc->as_array().size(); ++k) {
          const std::string tp = p + ".tool_calls[" + std::to_string(k) + "]";
          const json::value& call = tc->as_array()[k];
          const json::value* fn = call.is_object() ? call.as_object().if_contains("function")
                                                   : nullptr;
          if (fn == nullptr || !fn->is_object()) {
            return Fail(error, tp, "only function tool calls are supported", kToAnthropic);
          }
          const json::string* id = Str(call.as_object(), "id");
          const json::string* name = Str(fn->as_object(), "name");
          const json::string* args = Str(fn->as_object(), "arguments");
          if (id == nullptr || name == nullptr || args == nullptr) {
            return Fail(error, tp, "id, function.name and function.arguments are required",
                        kToAnthropic);
          }
          json::error_code ec;
          json::value input = json::parse(*args, ec);
          if (ec || !input.is_object()) {
            return Fail(error, tp + ".function.arguments", "must be a JSON object",
                        kToAnthropic);
          }
          blocks.push_back(json::object{
              {"type", "tool_use"}, {"id", *id}, {"name", *name}, {"input", std::move(input)}});
        }
      }
      if (blocks.empty()) return Fail(error, p + ".content", "empty assistant turn", kToAnthropic);
      AppendTurn(messages, "assistant", std::move(blocks));
    } else if (role == "tool") {
      const json::string* id = Str(m, "tool_call_id");
      if (id == nullptr) return Fail(error, p + ".tool_call_id", "missing", kToAnthropic);
      json::array result_blocks;
      if (content == nullptr ||
          !ContentToBlocks(*content, p + ".content", &result_blocks, error)) {
        return content == nullptr ? Fail(error, p + ".content", "missing", kToAnthropic) : false;
      }
      json::object block{{"type", "tool_result"}, {"tool_use_id", *id}};
      block["content"] = std::move(result_blocks);
      blocks.push_back(std::move(block));
      AppendTurn(messages, "user", std::move(blocks));
    } else {
      return Fail(error, p + ".role", "unsupported role", kToAnthropic);
    }
  }
  if (messages.empty()) return Fail(error, "messages", "no user or assistant turn", kToAnthropic);
  if (!system.empty()) (*out)["system"] = std::move(system);
  (*out)["messages"] = std::move(messages);
  return true;
}

bool TranslateChatTools(const json::object& chat, json::object* out, TranslateError* error) {
  if (const json::value* tools = chat.if_contains("tools"); tools && !tools->is_null()) {
    if (!tools->is_array()) return Fail(error, "tools", "must be an array", kToAnthropic);
    json::array out_tools;
    for (std::size_t i = 0; i < tools->as_array().size(); ++i) {
      const std::string p = "tools[" + std::to_string(i) + "]";
      const json::value& t = tools->as_array()[i];
      const json::value* fn = t.is_object() ? t.as_object().if_contains("function") : nullptr;
      const json::string* type = t.is_object() ? Str(t.as_object(), "type") : nullptr;
      if (type == nullptr || *type != "function" || fn == nullptr || !fn->is_object()) {
        return Fail(error, p + ".type", "only function tools are supported", kToAnthropic);
      }
      const auto& f = fn->as_object();
      const json::string* name = Str(f, "name");
      if (name == nullptr) return Fail(error, p + ".function.name", "missing", kToAnthropic);
      json::object tool{{"name", *name}};
      if (const json::string* d = Str(f, "description")) tool["description"] = *d;
      const json::value* params = f.if_contains("parameters");
      tool["input_schema"] = params != nullptr && params->is_object()
                                 ? *params
                                 : json::value(json::object{{"type", "object"}});
      if (const json::value* strict = f.if_contains("strict"); strict && strict->is_bool()) {
        tool["strict"] = strict->as_bool();
      }
      out_tools.push_back(std::move(tool));
    }
    (*out)["tools"] = std::move(out_tools);
  }
  json::object choice;
  if (const json::value* tc = chat.if_contains("tool_choice"); tc && !tc->is_null()) {
    if (tc->is_string()) {
      const std::string_view s = tc->as_string();
      if (s == "auto") choice["type"] = "auto";
      else if (s == "none") choice["type"] = "none";
      else if (s == "required") choice["type"] = "any";
      else return Fail(error, "tool_choice", "unknown value", kToAnthropic);
    } else if (tc->is_object() && Str(tc->as_object(), "type") != nullptr &&
               *Str(tc->as_object(), "type") == "function") {
      const json::value* fn = tc->as_object().if_contains("function");
      const json::string* name = fn && fn->is_object() ? Str(fn->as_object(), "name") : nullptr;
      if (name == nullptr) return Fail(error, "tool_choice.function.name", "missing", kToAnthropic);
      choice["type"] = "tool";
      choice["name"] = *name;
    } else {
      return Fail(error, "tool_choice", "only auto, none, required and function are supported",
                  kToAnthropic);
    }
  }
  if (const json::value* ptc = chat.if_contains("parallel_tool_calls"); ptc && ptc->is_bool()) {
    if (!ptc->as_bool()) {
      if (choice.empty()) choice["type"] = "auto";
      if (choice["type"].as_string() != "none") choice["disable_parallel_tool_use"] = true;
    }
  }
  if (!choice.empty()) (*out)["tool_choice"] = std::move(choice);
  return true;
}

// Chat fields this translator understands; anything else is refused (fail closed: an unknown
// field may change what the vendor does with the data).
constexpr std::string_view kChatKnown[] = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop",
    "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "user",
    "safety_identifier", "store", "n", "metadata", "service_tier"};

}  // namespace

bool ChatRequestToMessages(const json::object& chat, std::string_view upstream_model,
                           json::object* out, TranslateError* error) {
  for (const auto& kv : chat) {
    bool known = false;
    for (std::string_view k : kChatKnown) known = known || kv.key() == k;
    if (!known) return Fail(error, std::string(kv.key()), "no Anthropic equivalent", kToAnthropic);
  }
  if (Int(chat, "n", 1) != 1) return Fail(error, "n", "only n=1 is supported", kToAnthropic);
  if (const json::value* st = chat.if_contains("store"); st && st->is_bool() && st->as_bool()) {
    return Fail(error, "store", "Anthropic does not store completions", kToAnthropic);
  }
  out->clear();
  (*out)["model"] = upstream_model;
  std::int64_t max_tokens = Int(chat, "max_completion_tokens", Int(chat, "max_tokens", -1));
  (*out)["max_tokens"] = max_tokens > 0 ? max_tokens : kDefaultMaxTokens;
  if (!TranslateChatMessages(chat.at("messages").as_array(), out, error)) return false;
  if (const json::value* t = chat.if_contains("temperature"); t && t->is_number()) {
    const double temp = t->to_number<double>();
    if (temp > 1.0) return Fail(error, "temperature", "Anthropic accepts 0 to 1", kToAnthropic);
    (*out)["temperature"] = temp;
  }
  if (const json::value* tp = chat.if_contains("top_p"); tp && tp->is_number()) {
    (*out)["top_p"] = tp->to_number<double>();
  }
  if (const json::value* stop = chat.if_contains("stop"); stop && !stop->is_null()) {
    json::array seqs;
    if (stop->is_string()) seqs.push_back(stop->as_string());
    else if (stop->is_array()) seqs = stop->as_array();
    else return Fail(error, "stop", "must be a string or an array", kToAnthropic);
    (*out)["stop_sequences"] = std::move(seqs);
  }
  if (!TranslateChatTools(chat, out, error)) return false;
  const json::string* user = Str(chat, "safety_identifier");
  if (user == nullptr) user = Str(chat, "user");
  if (user != nullptr) (*out)["metadata"] = json::object{{"user_id", *user}};
  if (const json::value* s = chat.if_contains("stream"); s && s->is_bool() && s->as_bool()) {
    (*out)["stream"] = true;
  }
  return true;
}

// ---- Anthropic messages -> OpenAI chat ----------------------------------------------------------

namespace {

bool BlocksToChatContent(const json::value& content, const std::string& p, json::value* out,
                         json::array* tool_calls, json::array* tool_results,
                         TranslateError* error) {
  if (content.is_string()) {
    *out = content.as_string();
    return true;
  }
  json::array parts;
  for (std::size_t i = 0; i < content.as_array().size(); ++i) {
    const std::string pp = p + "[" + std::to_string(i) + "]";
    const json::value& bv = content.as_array()[i];
    if (!bv.is_object()) return Fail(error, pp, "must be an object", kToOpenAi);
    const auto& b = bv.as_object();
    const json::string* type = Str(b, "type");
    if (b.contains("cache_control")) {
      return Fail(error, pp + ".cache_control", "prompt caching has no equivalent", kToOpenAi);
    }
    if (type != nullptr && *type == "text") {
      const json::string* text = Str(b, "text");
      if (text == nullptr) return Fail(error, pp + ".text", "missing", kToOpenAi);
      parts.push_back(json::object{{"type", "text"}, {"text", *text}});
    } else if (type != nullptr && *type == "image") {
      const json::value* src = b.if_contains("source");
      if (src == nullptr || !src->is_object()) {
        return Fail(error, pp + ".source", "missing", kToOpenAi);
      }
      const auto& s = src->as_object();
      const json::string* st = Str(s, "type");
      std::string url;
      if (st != nullptr && *st == "base64" && Str(s, "media_type") && Str(s, "data")) {
        url = "data:" + std::string(*Str(s, "media_type")) + ";base64," +
              std::string(*Str(s, "data"));
      } else if (st != nullptr && *st == "url" && Str(s, "url")) {
        url = std::string(*Str(s, "url"));
      } else {
        return Fail(error, pp + ".source.type", "only base64 and url images", kToOpenAi);
      }
      parts.push_back(json::object{{"type", "image_url"}, {"image_url", {{"url", url}}}});
    } else if (type != nullptr && *type == "tool_use" && tool_calls != nullptr) {
      const json::string* id = Str(b, "id");
      const json::string* name = Str(b, "name");
      const json::value* input = b.if_contains("input");
      if (id == nullptr || name == nullptr || input == nullptr) {
        return Fail(error, pp, "tool_use needs id, name and input", kToOpenAi);
      }
      tool_calls->push_back(json::object{
          {"id", *id},
          {"type", "function"},
          {"function", {{"name", *name}, {"arguments", json::serialize(*input)}}}});
    } else if (type != nullptr && *type == "tool_result" && tool_results != nullptr) {
      const json::string* id = Str(b, "tool_use_id");
      if (id == nullptr) return Fail(error, pp + ".tool_use_id", "missing", kToOpenAi);
      if (const json::value* ie = b.if_contains("is_error"); ie && ie->is_bool() && ie->as_bool()) {
        return Fail(error, pp + ".is_error", "no equivalent", kToOpenAi);
      }
      json::value result_content = "";
      if (const json::value* c = b.if_contains("content"); c && !c->is_null()) {
        if (!BlocksToChatContent(*c, pp + ".content", &result_content, nullptr, nullptr, error)) {
          return false;
        }
      }
      tool_results->push_back(json::object{
          {"role", "tool"}, {"tool_call_id", *id}, {"content", std::move(result_content)}});
    } else {
      return Fail(error, pp + ".type", "block type has no equivalent", kToOpenAi);
    }
  }
  if (parts.size() == 1 && parts[0].as_object().at("type").as_string() == "text") {
    *out = parts[0].as_object().at("text");
  } else if (parts.empty()) {
    *out = nullptr;
  } else {
    *out = std::move(parts);
  }
  return true;
}

constexpr std::string_view kMessagesKnown[] = {
    "model", "messages", "max_tokens", "system", "temperature", "top_p", "stop_sequences",
    "stream", "tools", "tool_choice", "metadata", "thinking"};

bool TranslateMessagesTools(const json::object& in, json::object* out, TranslateError* error) {
  if (const json::value* tools = in.if_contains("tools"); tools && tools->is_array()) {
    json::array out_tools;
    for (std::size_t i = 0; i < tools->as_array().size(); ++i) {
      const std::string p = "tools." + std::to_string(i);
      const json::value& tv = tools->as_array()[i];
      if (!tv.is_object()) return Fail(error, p, "must be an object", kToOpenAi);
      const auto& t = tv.as_object();
      const json::string* type = Str(t, "type");
      if (type != nullptr && *type != "custom") {
        return Fail(error, p + ".type", "server and versioned tools have no equivalent",
                    kToOpenAi);
      }
      if (t.contains("cache_control")) {
        return Fail(error, p + ".cache_control", "prompt caching has no equivalent", kToOpenAi);
      }
      const json::string* name = Str(t, "name");
      if (name == nullptr) return Fail(error, p + ".name", "missing", kToOpenAi);
      json::object fn{{"name", *name}};
      if (const json::string* d = Str(t, "description")) fn["description"] = *d;
      if (const json::value* s = t.if_contains("input_schema")) fn["parameters"] = *s;
      out_tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
    }
    (*out)["tools"] = std::move(out_tools);
  }
  if (const json::value* tc = in.if_contains("tool_choice"); tc && tc->is_object()) {
    const json::string* type = Str(tc->as_object(), "type");
    if (type == nullptr) return Fail(error, "tool_choice.type", "missing", kToOpenAi);
    if (*type == "auto") (*out)["tool_choice"] = "auto";
    else if (*type == "any") (*out)["tool_choice"] = "required";
    else if (*type == "none") (*out)["tool_choice"] = "none";
    else if (*type == "tool" && Str(tc->as_object(), "name")) {
      (*out)["tool_choice"] = json::object{
          {"type", "function"}, {"function", {{"name", *Str(tc->as_object(), "name")}}}};
    } else {
      return Fail(error, "tool_choice.type", "unknown value", kToOpenAi);
    }
    if (const json::value* d = tc->as_object().if_contains("disable_parallel_tool_use");
        d && d->is_bool() && d->as_bool()) {
      (*out)["parallel_tool_calls"] = false;
    }
  }
  return true;
}

}  // namespace

bool MessagesRequestToChat(const json::object& in, std::string_view upstream_model,
                           json::object* out, TranslateError* error) {
  for (const auto& kv : in) {
    bool known = false;
    for (std::string_view k : kMessagesKnown) known = known || kv.key() == k;
    if (!known) return Fail(error, std::string(kv.key()), "no OpenAI equivalent", kToOpenAi);
  }
  if (const json::value* th = in.if_contains("thinking"); th && th->is_object()) {
    const json::string* type = Str(th->as_object(), "type");
    if (type == nullptr || *type != "disabled") {
      return Fail(error, "thinking", "extended thinking has no equivalent", kToOpenAi);
    }
  }
  out->clear();
  (*out)["model"] = upstream_model;
  json::array messages;
  if (const json::value* sys = in.if_contains("system"); sys && !sys->is_null()) {
    json::value content;
    if (!sys->is_string() && !sys->is_array()) {
      return Fail(error, "system", "must be a string or text blocks", kToOpenAi);
    }
    if (!BlocksToChatContent(*sys, "system", &content, nullptr, nullptr, error)) return false;
    messages.push_back(json::object{{"role", "system"}, {"content", std::move(content)}});
  }
  const auto& in_msgs = in.at("messages").as_array();
  for (std::size_t i = 0; i < in_msgs.size(); ++i) {
    const std::string p = "messages." + std::to_string(i);
    const auto& m = in_msgs[i].as_object();
    const std::string_view role = m.at("role").as_string();
    json::value content;
    json::array tool_calls;
    json::array tool_results;
    if (!BlocksToChatContent(m.at("content"), p + ".content", &content,
                             role == "assistant" ? &tool_calls : nullptr,
                             role == "user" ? &tool_results : nullptr, error)) {
      return false;
    }
    // Tool results come first in a user turn (they answer the previous assistant turn).
    for (auto& r : tool_results) messages.push_back(std::move(r));
    if (role == "assistant") {
      json::object msg{{"role", "assistant"}, {"content", content}};
      if (!tool_calls.empty()) msg["tool_calls"] = std::move(tool_calls);
      messages.push_back(std::move(msg));
    } else if (!content.is_null()) {
      messages.push_back(json::object{{"role", "user"}, {"content", std::move(content)}});
    }
  }
  (*out)["messages"] = std::move(messages);
  (*out)["max_completion_tokens"] = Int(in, "max_tokens", kDefaultMaxTokens);
  if (const json::value* t = in.if_contains("temperature"); t && t->is_number()) {
    (*out)["temperature"] = t->to_number<double>();
  }
  if (const json::value* tp = in.if_contains("top_p"); tp && tp->is_number()) {
    (*out)["top_p"] = tp->to_number<double>();
  }
  if (const json::value* ss = in.if_contains("stop_sequences"); ss && ss->is_array()) {
    (*out)["stop"] = ss->as_array();
  }
  if (!TranslateMessagesTools(in, out, error)) return false;
  if (const json::value* md = in.if_contains("metadata"); md && md->is_object()) {
    if (const json::string* uid = Str(md->as_object(), "user_id")) {
      (*out)["safety_identifier"] = *uid;
    }
  }
  if (const json::value* s = in.if_contains("stream"); s && s->is_bool() && s->as_bool()) {
    (*out)["stream"] = true;
    (*out)["stream_options"] = json::object{{"include_usage", true}};
  }
  return true;
}

// ---- Responses ----------------------------------------------------------------------------------

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

json::object AnthropicUsageFrom(const CanonicalUsage& u) {
  const std::int64_t cached = u.cached_input_tokens > 0 ? u.cached_input_tokens : 0;
  const std::int64_t input = u.input_tokens < 0 ? 0 : u.input_tokens - cached;
  json::object usage{{"input_tokens", input < 0 ? 0 : input},
                     {"output_tokens", u.output_tokens < 0 ? 0 : u.output_tokens}};
  if (u.cached_input_tokens >= 0) usage["cache_read_input_tokens"] = cached;
  return usage;
}

void ReadOpenAiUsage(const json::object& usage, CanonicalUsage* out) {
  const std::int64_t p = Int(usage, "prompt_tokens", -1);
  const std::int64_t c = Int(usage, "completion_tokens", -1);
  if (p >= 0) out->input_tokens = p;
  if (c >= 0) out->output_tokens = c;
  if (const json::value* d = usage.if_contains("prompt_tokens_details"); d && d->is_object()) {
    const std::int64_t cached = Int(d->as_object(), "cached_tokens", -1);
    if (cached >= 0) out->cached_input_tokens = cached;
  }
}

}  // namespace

core::Result<std::string> MessageToChatCompletion(std::string_view anthropic_body,
                                                  std::string_view client_model,
                                                  std::int64_t created,
                                                  CanonicalOutcome* outcome) {
  json::error_code ec;
  json::value v = json::parse(anthropic_body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("content") ||
      !v.as_object().at("content").is_array()) {
    return core::InvalidArgumentError("anthropic: response is not a Message");
  }
  const auto& msg = v.as_object();
  ReadMessageOutcome(msg, outcome);
  std::string text;
  bool has_text = false;
  json::array tool_calls;
  for (const auto& bv : msg.at("content").as_array()) {
    if (!bv.is_object()) continue;
    const auto& b = bv.as_object();
    const json::string* type = Str(b, "type");
    if (type == nullptr) continue;
    if (*type == "text" && Str(b, "text")) {
      text += std::string(*Str(b, "text"));
      has_text = true;
    } else if (*type == "tool_use" && Str(b, "id") && Str(b, "name")) {
      const json::value* input = b.if_contains("input");
      tool_calls.push_back(json::object{
          {"id", *Str(b, "id")},
          {"type", "function"},
          {"function",
           {{"name", *Str(b, "name")},
            {"arguments", input ? json::serialize(*input) : std::string("{}")}}}});
    }
    // thinking and server-tool blocks have no chat equivalent and are dropped from the output.
  }
  json::object message{{"role", "assistant"}};
  message["content"] = has_text ? json::value(text) : json::value(nullptr);
  message["refusal"] = nullptr;
  if (!tool_calls.empty()) message["tool_calls"] = std::move(tool_calls);
  std::string id = "chatcmpl-";
  if (const json::string* mid = Str(msg, "id")) id += std::string(*mid);
  json::object out{
      {"id", id},
      {"object", "chat.completion"},
      {"created", created},
      {"model", client_model},
      {"choices", json::array{json::object{{"index", 0},
                                           {"message", std::move(message)},
                                           {"logprobs", nullptr},
                                           {"finish_reason",
                                            ToOpenAiFinishReason(outcome->finish)}}}},
      {"usage", OpenAiUsageFrom(outcome->usage)}};
  return json::serialize(out);
}

core::Result<std::string> ChatCompletionToMessage(std::string_view openai_body,
                                                  std::string_view client_model,
                                                  CanonicalOutcome* outcome) {
  json::error_code ec;
  json::value v = json::parse(openai_body, ec);
  if (ec || !v.is_object()) return core::InvalidArgumentError("openai: response is not JSON");
  const auto& resp = v.as_object();
  const json::value* choices = resp.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->as_array().empty() ||
      !choices->as_array()[0].is_object()) {
    return core::InvalidArgumentError("openai: response has no choices");
  }
  const auto& choice = choices->as_array()[0].as_object();
  const json::value* mv = choice.if_contains("message");
  if (mv == nullptr || !mv->is_object()) {
    return core::InvalidArgumentError("openai: choice has no message");
  }
  const auto& m = mv->as_object();
  if (const json::string* fr = Str(choice, "finish_reason")) {
    outcome->finish = FromOpenAiFinishReason(*fr);
  }
  if (const json::value* u = resp.if_contains("usage"); u && u->is_object()) {
    ReadOpenAiUsage(u->as_object(), &outcome->usage);
  }
  json::array content;
  if (const json::string* refusal = Str(m, "refusal")) {
    outcome->finish = FinishReason::kContentFilter;
    content.push_back(json::object{{"type", "text"}, {"text", *refusal}});
  } else if (const json::string* text = Str(m, "content"); text && !text->empty()) {
    content.push_back(json::object{{"type", "text"}, {"text", *text}});
  }
  if (outcome->finish == FinishReason::kContentFilter) outcome->content_filter = true;
  if (const json::value* tcs = m.if_contains("tool_calls"); tcs && tcs->is_array()) {
    for (const auto& tcv : tcs->as_array()) {
      const json::value* fn = tcv.is_object() ? tcv.as_object().if_contains("function") : nullptr;
      if (fn == nullptr || !fn->is_object() || !Str(tcv.as_object(), "id") ||
          !Str(fn->as_object(), "name")) {
        return core::InvalidArgumentError("openai: malformed tool call");
      }
      json::value input = json::object();
      if (const json::string* args = Str(fn->as_object(), "arguments")) {
        json::error_code aec;
        input = json::parse(*args, aec);
        if (aec || !input.is_object()) {
          return core::InvalidArgumentError("openai: tool call arguments are not a JSON object");
        }
      }
      content.push_back(json::object{{"type", "tool_use"},
                                     {"id", *Str(tcv.as_object(), "id")},
                                     {"name", *Str(fn->as_object(), "name")},
                                     {"input", std::move(input)}});
    }
  }
  std::string id = "msg_";
  if (const json::string* cid = Str(resp, "id")) id += std::string(*cid);
  json::object out{{"id", id},
                   {"type", "message"},
                   {"role", "assistant"},
                   {"model", client_model},
                   {"content", std::move(content)},
                   {"stop_reason", ToAnthropicStopReason(outcome->finish)},
                   {"stop_sequence", nullptr},
                   {"usage", AnthropicUsageFrom(outcome->usage)}};
  return json::serialize(out);
}

std::string AnthropicErrorToOpenAi(unsigned status, std::string_view anthropic_body) {
  (void)anthropic_body;  // the vendor message may echo the prompt; only the status is used
  return openai::ErrorJson("The upstream provider returned an error.",
                           openai::ErrorTypeForStatus(status), "", "");
}

std::string OpenAiErrorToAnthropic(unsigned status, std::string_view openai_body) {
  (void)openai_body;
  return ErrorJson(ErrorTypeForStatus(status), "The upstream provider returned an error.");
}

// ---- Streams ------------------------------------------------------------------------------------

AnthropicToOpenAiStream::AnthropicToOpenAiStream(std::string client_model, std::int64_t created,
                                                 bool include_usage)
    : model_(std::move(client_model)), created_(created), include_usage_(include_usage) {}

std::string AnthropicToOpenAiStream::Chunk(json::object delta, const json::value& finish) const {
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

core::Status AnthropicToOpenAiStream::OnEvent(std::string_view event, std::string_view data,
                                              std::vector<SseOut>* out) {
  if (done_) return core::Status::Ok();
  json::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return core::InvalidArgumentError("anthropic stream: event data is not a JSON object");
  }
  const auto& d = v.as_object();
  std::string_view type = event;
  if (const json::string* t = Str(d, "type")) type = *t;
  observer_.OnParsedEvent(type, d);
  const json::value null_finish;
  if (type == "message_start") {
    if (!observer_.message_id().empty()) id_ = "chatcmpl-" + observer_.message_id();
    out->push_back({"", Chunk(json::object{{"role", "assistant"}, {"content", ""}}, null_finish)});
  } else if (type == "content_block_start") {
    const json::value* cb = d.if_contains("content_block");
    const std::int64_t index = Int(d, "index", -1);
    if (cb != nullptr && cb->is_object() && Str(cb->as_object(), "type") &&
        *Str(cb->as_object(), "type") == "tool_use") {
      const int tool = next_tool_++;
      tool_index_[index] = tool;
      const auto& b = cb->as_object();
      json::object call{{"index", tool},
                        {"id", Str(b, "id") ? json::value(*Str(b, "id")) : json::value("")},
                        {"type", "function"},
                        {"function",
                         {{"name", Str(b, "name") ? json::value(*Str(b, "name")) : json::value("")},
                          {"arguments", ""}}}};
      out->push_back({"", Chunk(json::object{{"tool_calls", json::array{std::move(call)}}},
                                null_finish)});
    }
  } else if (type == "content_block_delta") {
    const json::value* dv = d.if_contains("delta");
    if (dv == nullptr || !dv->is_object()) return core::Status::Ok();
    const auto& delta = dv->as_object();
    const json::string* dtype = Str(delta, "type");
    if (dtype != nullptr && *dtype == "text_delta" && Str(delta, "text")) {
      out->push_back({"", Chunk(json::object{{"content", *Str(delta, "text")}}, null_finish)});
    } else if (dtype != nullptr && *dtype == "input_json_delta" && Str(delta, "partial_json")) {
      auto it = tool_index_.find(Int(d, "index", -1));
      if (it == tool_index_.end()) return core::Status::Ok();
      json::object call{{"index", it->second},
                        {"function", {{"arguments", *Str(delta, "partial_json")}}}};
      out->push_back({"", Chunk(json::object{{"tool_calls", json::array{std::move(call)}}},
                                null_finish)});
    }
    // thinking, signature and citation deltas have no chat equivalent.
  } else if (type == "message_delta") {
    out->push_back({"", Chunk(json::object(),
                              json::value(ToOpenAiFinishReason(observer_.outcome().finish)))});
  } else if (type == "message_stop") {
    if (include_usage_) {
      json::object chunk{{"id", id_},
                         {"object", "chat.completion.chunk"},
                         {"created", created_},
                         {"model", model_},
                         {"choices", json::array()},
                         {"usage", OpenAiUsageFrom(observer_.outcome().usage)}};
      out->push_back({"", json::serialize(chunk)});
    }
    out->push_back({"", "[DONE]"});
    done_ = true;
  } else if (type == "error") {
    std::string_view etype = "api_error";
    if (const json::value* e = d.if_contains("error"); e && e->is_object()) {
      if (const json::string* t = Str(e->as_object(), "type")) etype = KnownErrorType(*t);
    }
    // OpenAI has no overloaded type; an unknown type is reported as a server error.
    if (etype.empty() || etype == "overloaded_error" || etype == "api_error") {
      etype = "server_error";
    }
    out->push_back({"", openai::ErrorJson("The upstream provider reported an error mid-stream.",
                                          etype, "", "")});
    done_ = true;
  }
  // ping and unknown event types are ignored (forward compatibility).
  return core::Status::Ok();
}

OpenAiToAnthropicStream::OpenAiToAnthropicStream(std::string client_model)
    : model_(std::move(client_model)) {}

namespace {
SseOut Event(std::string_view name, json::object data) {
  data["type"] = name;
  return {std::string(name), json::serialize(data)};
}
}  // namespace

void OpenAiToAnthropicStream::Start(std::string_view id, std::vector<SseOut>* out) {
  started_ = true;
  json::object message{{"id", "msg_" + std::string(id)},
                       {"type", "message"},
                       {"role", "assistant"},
                       {"model", model_},
                       {"content", json::array()},
                       {"stop_reason", nullptr},
                       {"stop_sequence", nullptr},
                       {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}};
  out->push_back(Event("message_start", json::object{{"message", std::move(message)}}));
}

void OpenAiToAnthropicStream::CloseBlock(std::vector<SseOut>* out) {
  if (!block_open_) return;
  out->push_back(Event("content_block_stop", json::object{{"index", block_index_}}));
  block_open_ = false;
}

void OpenAiToAnthropicStream::OpenBlock(json::object block, std::vector<SseOut>* out) {
  CloseBlock(out);
  ++block_index_;
  block_open_ = true;
  block_is_text_ = block.at("type").as_string() == "text";
  out->push_back(Event("content_block_start",
                       json::object{{"index", block_index_}, {"content_block", std::move(block)}}));
}

void OpenAiToAnthropicStream::FlushTools(std::vector<SseOut>* out) {
  CloseBlock(out);
  for (auto& [index, t] : tools_) {
    OpenBlock(json::object{{"type", "tool_use"}, {"id", t.id}, {"name", t.name},
                           {"input", json::object()}},
              out);
    if (!t.arguments.empty()) {
      out->push_back(Event("content_block_delta",
                           json::object{{"index", block_index_},
                                        {"delta", {{"type", "input_json_delta"},
                                                   {"partial_json", t.arguments}}}}));
    }
    CloseBlock(out);
  }
  tools_.clear();
}

void OpenAiToAnthropicStream::Finish(std::vector<SseOut>* out) {
  FlushTools(out);
  json::object delta{{"stop_reason", ToAnthropicStopReason(outcome_.finish)},
                     {"stop_sequence", nullptr}};
  out->push_back(Event("message_delta", json::object{{"delta", std::move(delta)},
                                                     {"usage", AnthropicUsageFrom(outcome_.usage)}}));
  out->push_back(Event("message_stop", json::object()));
  done_ = true;
}

core::Status OpenAiToAnthropicStream::OnData(std::string_view data, std::vector<SseOut>* out) {
  if (done_) return core::Status::Ok();
  if (data == "[DONE]") {
    if (!started_) Start("unknown", out);
    Finish(out);
    return core::Status::Ok();
  }
  json::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) {
    return core::InvalidArgumentError("openai stream: chunk is not a JSON object");
  }
  const auto& chunk = v.as_object();
  if (chunk.contains("error")) {
    outcome_.finish = FinishReason::kError;
    outcome_.error_class = "upstream_stream_error";
    if (!started_) Start("unknown", out);
    out->push_back(Event("error", json::object{{"error", {{"type", "api_error"},
                                                          {"message",
                                                           "The upstream provider reported an "
                                                           "error mid-stream."}}}}));
    done_ = true;
    return core::Status::Ok();
  }
  json_fields::NoteServedModel(chunk, "model", &outcome_.model);
  if (!started_) {
    const json::string* id = Str(chunk, "id");
    Start(id ? std::string_view(*id) : std::string_view("unknown"), out);
  }
  if (const json::value* u = chunk.if_contains("usage"); u && u->is_object()) {
    ReadOpenAiUsage(u->as_object(), &outcome_.usage);
  }
  const json::value* choices = chunk.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return core::Status::Ok();
  for (const auto& cv : choices->as_array()) {
    if (!cv.is_object() || Int(cv.as_object(), "index", 0) != 0) continue;
    const auto& choice = cv.as_object();
    if (const json::value* dv = choice.if_contains("delta"); dv && dv->is_object()) {
      const auto& delta = dv->as_object();
      const json::string* text = Str(delta, "content");
      const json::string* refusal = Str(delta, "refusal");
      if (refusal != nullptr) {
        outcome_.content_filter = true;
        text = refusal;
      }
      if (text != nullptr && !text->empty()) {
        if (!block_open_ || !block_is_text_) {
          OpenBlock(json::object{{"type", "text"}, {"text", ""}}, out);
        }
        out->push_back(Event("content_block_delta",
                             json::object{{"index", block_index_},
                                          {"delta", {{"type", "text_delta"}, {"text", *text}}}}));
      }
      if (const json::value* tcs = delta.if_contains("tool_calls"); tcs && tcs->is_array()) {
        // Buffered until the choice finishes: OpenAI may interleave fragments of parallel calls,
        // while an Anthropic block cannot be reopened once another has started.
        for (const auto& tcv : tcs->as_array()) {
          if (!tcv.is_object()) continue;
          const auto& tc = tcv.as_object();
          PendingTool& t = tools_[Int(tc, "index", 0)];
          if (const json::string* id = Str(tc, "id")) t.id = std::string(*id);
          if (const json::value* fn = tc.if_contains("function"); fn && fn->is_object()) {
            if (const json::string* n = Str(fn->as_object(), "name")) t.name = std::string(*n);
            if (const json::string* a = Str(fn->as_object(), "arguments")) t.arguments += *a;
          }
        }
      }
    }
    if (const json::string* fr = Str(choice, "finish_reason")) {
      outcome_.finish = FromOpenAiFinishReason(*fr);
      if (outcome_.content_filter) outcome_.finish = FinishReason::kContentFilter;
      if (outcome_.finish == FinishReason::kContentFilter) outcome_.content_filter = true;
      FlushTools(out);
    }
  }
  return core::Status::Ok();
}

}  // namespace baagate::providers::anthropic
