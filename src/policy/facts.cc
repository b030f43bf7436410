#include "policy/facts.h"

#include <boost/json.hpp>

#include <algorithm>
#include <initializer_list>

namespace baagate::policy {

namespace json = boost::json;

namespace {

// Field names and type tags come from the client; only identifier-shaped ones are repeated in
// reasons (which reach audit records and error bodies), anything else becomes "?".
std::string SafeName(std::string_view s) {
  if (s.empty() || s.size() > 48) return "?";
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
    if (!ok) return "?";
  }
  return std::string(s);
}

bool In(std::string_view s, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view StrOr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

bool TrueField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

bool Present(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && !v->is_null();
}

// A host for recipient ids: from "https://host[:port]/…", identifier-shaped, else "?".
std::string HostOf(std::string_view url) {
  auto p = url.find("://");
  if (p != std::string_view::npos) url.remove_prefix(p + 3);
  url = url.substr(0, url.find_first_of("/:?#"));
  std::string lower;
  for (char c : url) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return SafeName(lower);
}

class Extractor {
 public:
  explicit Extractor(RequestFacts* f) : f_(*f) {}

  void Unknown(std::string_view where, std::string_view name) {
    f_.unknown_fields.push_back(std::string(where) + SafeName(name));
  }
  void Error(std::string_view what) {
    if (f_.extraction_error.empty()) f_.extraction_error = std::string(what);
  }

  // Top-level fields: a handler per known field; everything else is unknown.
  void CheckTopLevel(const json::object& body, std::initializer_list<std::string_view> known) {
    for (const auto& kv : body) {
      if (!In(kv.key(), known)) Unknown("", kv.key());
    }
  }

  void EndUser(const json::object& body, std::initializer_list<std::string_view> keys) {
    for (auto k : keys) {
      const json::value* v = body.if_contains(k);
      if (v && v->is_string() && !v->get_string().empty()) f_.end_user_id = true;
    }
  }

  void Metadata(const json::value* v) {
    if (v && v->is_object() && !v->get_object().empty()) {
      f_.metadata_attached = true;
      f_.AddFeature("metadata_attached");
    }
  }

  void CacheControl(const json::object& o) {
    if (Present(o, "cache_control")) f_.AddFeature("prompt_cache");
  }

  // ---- OpenAI chat completions
  void OpenAIChatPart(const json::object& part) {
    std::string_view type = StrOr(part, "type");
    if (type == "text" || type == "refusal") {
      f_.AddModalityIn("text");
    } else if (type == "image_url") {
      f_.AddFeature("vision.image_input");
      f_.AddModalityIn("image");
    } else if (type == "input_audio") {
      f_.AddFeature("audio.input");
      f_.AddModalityIn("audio");
    } else if (type == "file") {
      const json::value* file = part.if_contains("file");
      if (file && file->is_object() && Present(file->get_object(), "file_id")) {
        f_.AddFeature("file_ref");
        f_.AddModalityIn("file_ref");
      } else {
        f_.AddFeature("pdf_input");
        f_.AddModalityIn("pdf");
      }
    } else {
      Unknown("messages[].content[].type=", type);
    }
  }

  void OpenAIChatMessages(const json::value* v) {
    if (!v || !v->is_array()) return Error("messages must be an array");
    for (const json::value& m : v->get_array()) {
      if (!m.is_object()) return Error("messages[] must be objects");
      const json::object& msg = m.get_object();
      std::string_view role = StrOr(msg, "role");
      if (!In(role, {"system", "developer", "user", "assistant", "tool", "function"})) {
        Unknown("messages[].role=", role);
      }
      if (Present(msg, "audio")) f_.AddFeature("audio.output");
      const json::value* content = msg.if_contains("content");
      if (!content || content->is_null()) continue;
      if (content->is_string()) {
        f_.AddModalityIn("text");
      } else if (content->is_array()) {
        for (const json::value& p : content->get_array()) {
          if (!p.is_object()) return Error("content parts must be objects");
          OpenAIChatPart(p.get_object());
        }
      } else {
        return Error("message content must be a string or an array");
      }
    }
  }

  void OpenAITools(const json::value* v, bool responses) {
    if (!v || v->is_null()) return;
    if (!v->is_array()) return Error("tools must be an array");
    for (const json::value& t : v->get_array()) {
      if (!t.is_object()) return Error("tools[] must be objects");
      const json::object& tool = t.get_object();
      std::string_view type = StrOr(tool, "type");
      if (type == "function" || type == "namespace") {
        f_.AddFeature("tools.function");
      } else if (type == "custom" || (responses && type == "apply_patch")) {
        f_.AddFeature("tools.custom");
      } else if (responses && StartsWith(type, "web_search")) {
        const json::value* ext = tool.if_contains("external_web_access");
        bool cache_only = ext && ext->is_bool() && !ext->get_bool();
        f_.AddFeature(cache_only ? "web_search.cache_only" : "web_search");
      } else if (responses && type == "file_search") {
        f_.AddFeature("file_search");
      } else if (responses && type == "code_interpreter") {
        f_.AddFeature("code_execution");
      } else if (responses && type == "image_generation") {
        f_.AddFeature("image_generation");
        f_.AddModalityOut("image");
      } else if (responses && type == "mcp") {
        f_.AddFeature("mcp");
        std::string_view url = StrOr(tool, "server_url");
        std::string_view label = StrOr(tool, "server_label");
        f_.recipients.push_back("mcp:" + (url.empty() ? SafeName(label) : HostOf(url)));
      } else if (responses && (type == "computer" || type == "computer_use_preview")) {
        f_.AddFeature("computer_use");
      } else if (responses && (type == "local_shell" || type == "shell")) {
        f_.AddFeature("shell");
      } else if (responses && type == "tool_search") {
        f_.AddFeature("tool_search");
      } else if (responses && type == "programmatic_tool_calling") {
        f_.AddFeature("programmatic_tool_calling");
      } else {
        Unknown("tools[].type=", type);
      }
    }
  }

  void ToolChoice(const json::value* v) {
    if (!v) return;
    if (v->is_string() && (v->get_string() == "required" || v->get_string() == "any")) {
      f_.AddFeature("tool_choice.forced");
    } else if (v->is_object()) {
      std::string_view type = StrOr(v->get_object(), "type");
      if (type != "auto" && type != "none") f_.AddFeature("tool_choice.forced");
    }
  }

  void ResponseFormat(const json::value* v) {
    if (!v || !v->is_object()) return;
    std::string_view type = StrOr(v->get_object(), "type");
    if (type == "json_schema") f_.AddFeature("structured_output.json_schema");
    else if (type == "json_object") f_.AddFeature("structured_output.json_mode");
    else if (type != "text") Unknown("response_format.type=", type);
  }

  void ServiceTier(const json::object& body) {
    std::string_view tier = StrOr(body, "service_tier");
    if (!tier.empty() && !In(tier, {"auto", "default", "standard_only"})) {
      f_.AddFeature("priority_tier");
    }
  }

  void PromptCache(const json::object& body) {
    if (Present(body, "prompt_cache_key")) f_.AddFeature("prompt_cache");
    if (StrOr(body, "prompt_cache_retention") == "24h") f_.AddFeature("prompt_cache.extended");
    if (const json::value* o = body.if_contains("prompt_cache_options"); o && o->is_object()) {
      f_.AddFeature("prompt_cache");
      if (Present(o->get_object(), "ttl") || Present(o->get_object(), "mode")) {
        f_.AddFeature("prompt_cache.extended");
      }
    }
  }

  void OpenAIChat(const json::object& body) {
    CheckTopLevel(body,
                  {"model", "messages", "stream", "stream_options", "temperature", "top_p",
                   "max_tokens", "max_completion_tokens", "n", "stop", "presence_penalty",
                   "frequency_penalty", "logit_bias", "seed", "user", "safety_identifier", "tools",
                   "tool_choice", "parallel_tool_calls", "functions", "function_call",
                   "response_format", "modalities", "audio", "store", "metadata", "logprobs",
                   "top_logprobs", "web_search_options", "prediction", "service_tier",
                   "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention",
                   "reasoning_effort", "verbosity", "moderation"});
    OpenAIChatMessages(body.if_contains("messages"));
    OpenAITools(body.if_contains("tools"), false);
    if (Present(body, "functions") || Present(body, "function_call")) f_.AddFeature("tools.function");
    ToolChoice(body.if_contains("tool_choice"));
    if (TrueField(body, "parallel_tool_calls")) f_.AddFeature("tools.parallel");
    ResponseFormat(body.if_contains("response_format"));
    if (const json::value* m = body.if_contains("modalities"); m && m->is_array()) {
      for (const json::value& x : m->get_array()) {
        if (x.is_string() && x.get_string() == "audio") f_.AddFeature("audio.output");
      }
    }
    if (Present(body, "audio")) f_.AddFeature("audio.output");
    if (f_.HasFeature("audio.output")) f_.AddModalityOut("audio");
    if (TrueField(body, "store")) {
      f_.store = true;
      f_.AddFeature("store");
    }
    Metadata(body.if_contains("metadata"));
    EndUser(body, {"user", "safety_identifier"});
    if (const json::value* n = body.if_contains("n"); n && n->is_number()) {
      json::error_code ec;
      auto nv = n->to_number<double>(ec);
      if (!ec && nv > 1) f_.AddFeature("n_gt_1");
    }
    if (TrueField(body, "logprobs") || Present(body, "top_logprobs")) f_.AddFeature("logprobs");
    if (Present(body, "web_search_options")) f_.AddFeature("web_search");
    if (Present(body, "prediction")) f_.AddFeature("predicted_output");
    ServiceTier(body);
    PromptCache(body);
    if (Present(body, "reasoning_effort") || Present(body, "verbosity")) f_.AddFeature("reasoning");
    if (Present(body, "moderation")) f_.AddFeature("moderation");
    f_.stream = TrueField(body, "stream");
  }

  void OpenAIEmbeddings(const json::object& body) {
    CheckTopLevel(body, {"model", "input", "user", "encoding_format", "dimensions"});
    EndUser(body, {"user"});
    const json::value* input = body.if_contains("input");
    if (!input || !(input->is_string() || input->is_array())) {
      return Error("input must be a string or an array");
    }
    f_.AddModalityIn("text");
  }

  // ---- OpenAI responses
  void ResponsesPart(const json::object& part) {
    std::string_view type = StrOr(part, "type");
    if (In(type, {"input_text", "output_text", "refusal", "text", "summary_text", "reasoning_text"})) {
      f_.AddModalityIn("text");
    } else if (type == "input_image") {
      f_.AddFeature("vision.image_input");
      f_.AddModalityIn("image");
      if (Present(part, "file_id")) f_.AddFeature("file_ref");
    } else if (type == "input_file") {
      if (Present(part, "file_id")) {
        f_.AddFeature("file_ref");
        f_.AddModalityIn("file_ref");
      } else if (Present(part, "file_url")) {
        f_.AddFeature("url_source");
        f_.AddFeature("pdf_input");
        f_.AddModalityIn("pdf");
      } else {
        f_.AddFeature("pdf_input");
        f_.AddModalityIn("pdf");
      }
    } else if (type == "input_audio") {
      f_.AddFeature("audio.input");
      f_.AddModalityIn("audio");
    } else {
      Unknown("input[].content[].type=", type);
    }
  }

  void ResponsesInput(const json::value* v) {
    if (!v) return Error("input is required");
    if (v->is_string()) return f_.AddModalityIn("text");
    if (!v->is_array()) return Error("input must be a string or an array");
    for (const json::value& it : v->get_array()) {
      if (!it.is_object()) return Error("input[] must be objects");
      const json::object& item = it.get_object();
      std::string_view type = StrOr(item, "type");
      if (type.empty() || type == "message") {
        const json::value* content = item.if_contains("content");
        if (content && content->is_string()) {
          f_.AddModalityIn("text");
        } else if (content && content->is_array()) {
          for (const json::value& p : content->get_array()) {
            if (!p.is_object()) return Error("content parts must be objects");
            ResponsesPart(p.get_object());
          }
        } else {
          return Error("message content must be a string or an array");
        }
      } else if (type == "item_reference") {
        f_.AddFeature("conversation_state");
      } else if (In(type, {"function_call", "function_call_output", "custom_tool_call",
                           "custom_tool_call_output", "reasoning"})) {
        f_.AddModalityIn("text");
      } else {
        Unknown("input[].type=", type);
      }
    }
  }

  void OpenAIResponses(const json::object& body) {
    CheckTopLevel(body,
                  {"model", "input", "instructions", "store", "background", "previous_response_id",
                   "conversation", "include", "tools", "tool_choice", "parallel_tool_calls",
                   "max_tool_calls", "text", "reasoning", "metadata", "safety_identifier",
                   "prompt_cache_key", "prompt_cache_options", "prompt_cache_retention", "user",
                   "service_tier", "prompt", "moderation", "context_management", "truncation",
                   "max_output_tokens", "stream", "stream_options", "temperature", "top_p",
                   "top_logprobs"});
    ResponsesInput(body.if_contains("input"));
    if (Present(body, "instructions")) f_.AddModalityIn("text");
    // store defaults to true on this endpoint: absent means stored.
    const json::value* store = body.if_contains("store");
    if (!store || store->is_null() || (store->is_bool() && store->get_bool())) {
      f_.store = true;
      f_.AddFeature("store");
    }
    if (TrueField(body, "background")) {
      f_.background = true;
      f_.AddFeature("background");
    }
    if (Present(body, "previous_response_id") || Present(body, "conversation")) {
      f_.conversation_state = true;
      f_.AddFeature("conversation_state");
    }
    OpenAITools(body.if_contains("tools"), true);
    ToolChoice(body.if_contains("tool_choice"));
    if (TrueField(body, "parallel_tool_calls")) f_.AddFeature("tools.parallel");
    if (const json::value* t = body.if_contains("text"); t && t->is_object()) {
      ResponseFormat(t->get_object().if_contains("format"));
      if (Present(t->get_object(), "verbosity")) f_.AddFeature("reasoning");
    }
    if (Present(body, "reasoning")) f_.AddFeature("reasoning");
    Metadata(body.if_contains("metadata"));
    EndUser(body, {"user", "safety_identifier"});
    ServiceTier(body);
    PromptCache(body);
    if (Present(body, "prompt")) f_.AddFeature("stored_prompt");
    if (Present(body, "moderation")) f_.AddFeature("moderation");
    if (Present(body, "context_management")) f_.AddFeature("context_management");
    if (Present(body, "top_logprobs")) f_.AddFeature("logprobs");
    f_.stream = TrueField(body, "stream");
  }

  // ---- Anthropic messages
  void AnthropicSource(const json::value* src, std::string_view media_feature,
                       std::string_view modality) {
    if (!src || !src->is_object()) return Error("a source must be an object");
    std::string_view type = StrOr(src->get_object(), "type");
    if (type == "base64" || type == "text" || type == "content") {
      if (!media_feature.empty()) f_.AddFeature(media_feature);
      f_.AddModalityIn(type == "base64" ? modality : "text");
    } else if (type == "url") {
      f_.AddFeature(media_feature);
      f_.AddFeature("url_source");
      f_.AddModalityIn(modality);
    } else if (type == "file") {
      f_.AddFeature("file_ref");
      f_.AddModalityIn("file_ref");
    } else {
      Unknown("source.type=", type);
    }
  }

  void AnthropicBlock(const json::object& block) {
    CacheControl(block);
    std::string_view type = StrOr(block, "type");
    if (type == "text") {
      f_.AddModalityIn("text");
      if (Present(block, "citations")) f_.AddFeature("citations");
    } else if (type == "image") {
      AnthropicSource(block.if_contains("source"), "vision.image_input", "image");
    } else if (type == "document") {
      const json::value* src = block.if_contains("source");
      std::string_view st = src && src->is_object() ? StrOr(src->get_object(), "type") : "";
      AnthropicSource(src, st == "base64" || st == "url" ? "pdf_input" : "", "pdf");
      if (Present(block, "citations")) f_.AddFeature("citations");
    } else if (type == "search_result") {
      f_.AddFeature("search_results");
      f_.AddModalityIn("text");
    } else if (type == "tool_use") {
      f_.AddFeature("tools.function");
    } else if (type == "tool_result") {
      const json::value* c = block.if_contains("content");
      if (c && c->is_array()) {
        for (const json::value& b : c->get_array()) {
          if (!b.is_object()) return Error("content blocks must be objects");
          AnthropicBlock(b.get_object());
        }
      } else {
        f_.AddModalityIn("text");
      }
    } else if (type == "thinking" || type == "redacted_thinking") {
      f_.AddFeature("reasoning");
    } else if (type == "server_tool_use") {
      std::string_view name = StrOr(block, "name");
      if (name == "web_search") f_.AddFeature("web_search");
      else if (name == "web_fetch") f_.AddFeature("web_fetch");
      else f_.AddFeature("code_execution");
    } else if (type == "web_search_tool_result") {
      f_.AddFeature("web_search");
    } else if (type == "web_fetch_tool_result") {
      f_.AddFeature("web_fetch");
    } else if (type == "code_execution_tool_result" || type == "bash_code_execution_tool_result" ||
               type == "text_editor_code_execution_tool_result" || type == "container_upload") {
      f_.AddFeature("code_execution");
    } else if (type == "mcp_tool_use" || type == "mcp_tool_result") {
      f_.AddFeature("mcp");
    } else {
      Unknown("messages[].content[].type=", type);
    }
  }

  void AnthropicTools(const json::value* v) {
    if (!v || v->is_null()) return;
    if (!v->is_array()) return Error("tools must be an array");
    for (const json::value& t : v->get_array()) {
      if (!t.is_object()) return Error("tools[] must be objects");
      const json::object& tool = t.get_object();
      CacheControl(tool);
      if (TrueField(tool, "strict")) f_.AddFeature("structured_output.strict_tools");
      std::string_view type = StrOr(tool, "type");
      if (type.empty() || type == "custom") f_.AddFeature("tools.function");
      else if (StartsWith(type, "bash_") || StartsWith(type, "text_editor_") || StartsWith(type, "memory_"))
        f_.AddFeature("tools.client_builtin");
      else if (StartsWith(type, "computer_")) f_.AddFeature("computer_use");
      else if (StartsWith(type, "browser_")) f_.AddFeature("browser_use");
      else if (StartsWith(type, "web_search_")) f_.AddFeature("web_search");
      else if (StartsWith(type, "web_fetch_")) f_.AddFeature("web_fetch");
      else if (StartsWith(type, "code_execution_")) f_.AddFeature("code_execution");
      else if (StartsWith(type, "tool_search_tool_")) f_.AddFeature("tool_search");
      else if (StartsWith(type, "mcp_toolset")) f_.AddFeature("mcp");
      else Unknown("tools[].type=", type);
    }
  }

  void AnthropicMessages(const json::object& body, bool count_tokens) {
    if (count_tokens) {
      CheckTopLevel(body, {"model", "messages", "system", "tools", "tool_choice", "thinking",
                           "output_config", "mcp_servers", "context_management", "cache_control"});
    } else {
      CheckTopLevel(body,
                    {"model", "max_tokens", "messages", "system", "stream", "metadata",
                     "stop_sequences", "temperature", "top_k", "top_p", "tools", "tool_choice",
                     "thinking", "output_config", "service_tier", "inference_geo", "container",
                     "context_management", "mcp_servers", "speed", "cache_control"});
    }
    const json::value* msgs = body.if_contains("messages");
    if (!msgs || !msgs->is_array()) return Error("messages must be an array");
    for (const json::value& m : msgs->get_array()) {
      if (!m.is_object()) return Error("messages[] must be objects");
      const json::object& msg = m.get_object();
      std::string_view role = StrOr(msg, "role");
      if (!In(role, {"user", "assistant", "system"})) Unknown("messages[].role=", role);
      const json::value* content = msg.if_contains("content");
      if (content && content->is_string()) {
        f_.AddModalityIn("text");
      } else if (content && content->is_array()) {
        for (const json::value& b : content->get_array()) {
          if (!b.is_object()) return Error("content blocks must be objects");
          AnthropicBlock(b.get_object());
        }
      } else {
        return Error("message content must be a string or an array");
      }
    }
    if (const json::value* sys = body.if_contains("system"); sys && sys->is_array()) {
      for (const json::value& b : sys->get_array()) {
        if (!b.is_object()) return Error("system blocks must be objects");
        AnthropicBlock(b.get_object());
      }
    } else if (sys && sys->is_string()) {
      f_.AddModalityIn("text");
    }
    AnthropicTools(body.if_contains("tools"));
    ToolChoice(body.if_contains("tool_choice"));
    if (const json::value* tc = body.if_contains("tool_choice"); tc && tc->is_object()) {
      if (TrueField(tc->get_object(), "disable_parallel_tool_use")) {
        // fewer calls, not a new feature
      } else if (f_.HasFeature("tools.function")) {
        f_.AddFeature("tools.parallel");
      }
    }
    if (const json::value* th = body.if_contains("thinking"); th && th->is_object()) {
      if (StrOr(th->get_object(), "type") != "disabled") f_.AddFeature("reasoning");
    }
    if (const json::value* oc = body.if_contains("output_config"); oc && oc->is_object()) {
      if (Present(oc->get_object(), "effort")) f_.AddFeature("reasoning");
      if (const json::value* fmt = oc->get_object().if_contains("format"); fmt && fmt->is_object()) {
        ResponseFormat(fmt);
      }
    }
    if (const json::value* md = body.if_contains("metadata"); md && md->is_object()) {
      for (const auto& kv : md->get_object()) {
        if (kv.key() == "user_id") {
          if (kv.value().is_string() && !kv.value().get_string().empty()) f_.end_user_id = true;
        } else {
          Unknown("metadata.", kv.key());
        }
      }
    }
    ServiceTier(body);
    f_.inference_geo = std::string(StrOr(body, "inference_geo"));
    if (Present(body, "container")) f_.AddFeature("code_execution");
    if (Present(body, "context_management")) f_.AddFeature("context_management");
    if (const json::value* mcp = body.if_contains("mcp_servers"); mcp && mcp->is_array()) {
      f_.AddFeature("mcp");
      for (const json::value& s : mcp->get_array()) {
        if (s.is_object()) f_.recipients.push_back("mcp:" + HostOf(StrOr(s.get_object(), "url")));
      }
    }
    if (StrOr(body, "speed") == "fast") f_.AddFeature("fast_mode");
    CacheControl(body);
    f_.stream = TrueField(body, "stream");
  }

  // ---- Bedrock Converse (PROVIDERS.md §5.2): one union member per content block
  void ConverseSource(const json::object& media, std::string_view feature,
                      std::string_view modality) {
    f_.AddFeature(feature);
    const json::value* src = media.if_contains("source");
    if (!src || !src->is_object()) return Error("a source must be an object");
    if (src->get_object().contains("bytes")) {
      f_.AddModalityIn(modality);
    } else if (src->get_object().contains("s3Location")) {
      f_.AddFeature("s3_source");
      f_.AddModalityIn(modality);
    } else {
      for (const auto& kv : src->get_object()) Unknown("source.", kv.key());
    }
  }

  void ConverseBlock(const json::object& block) {
    for (const auto& kv : block) {
      const std::string_view key = kv.key();
      const json::object* o = kv.value().if_object();
      if (key == "text") {
        f_.AddModalityIn("text");
      } else if (key == "image" && o) {
        ConverseSource(*o, "vision.image_input", "image");
      } else if (key == "document" && o) {
        ConverseSource(*o, "pdf_input", "pdf");
        if (Present(*o, "citations")) f_.AddFeature("citations");
      } else if (key == "video" && o) {
        ConverseSource(*o, "video_input", "video");
      } else if (key == "toolUse") {
        f_.AddFeature("tools.function");
      } else if (key == "toolResult" && o) {
        const json::value* c = o->if_contains("content");
        if (!c || !c->is_array()) return Error("toolResult content must be an array");
        for (const json::value& b : c->get_array()) {
          if (!b.is_object()) return Error("content blocks must be objects");
          for (const auto& rk : b.get_object()) {
            if (rk.key() == "json") f_.AddModalityIn("text");
          }
          json::object rest = b.get_object();
          rest.erase("json");
          ConverseBlock(rest);
        }
      } else if (key == "guardContent") {
        f_.AddFeature("guardrail");
        f_.AddModalityIn("text");
      } else if (key == "reasoningContent") {
        f_.AddFeature("reasoning");
      } else if (key == "cachePoint") {
        f_.AddFeature("prompt_cache");
      } else {
        Unknown("messages[].content[].", key);
      }
    }
  }

  void BedrockConverse(const json::object& body) {
    CheckTopLevel(body, {"messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig",
                         "additionalModelRequestFields", "additionalModelResponseFieldPaths",
                         "promptVariables", "requestMetadata", "performanceConfig"});
    const json::value* msgs = body.if_contains("messages");
    if (!msgs || !msgs->is_array()) return Error("messages must be an array");
    for (const json::value& m : msgs->get_array()) {
      if (!m.is_object()) return Error("messages[] must be objects");
      std::string_view role = StrOr(m.get_object(), "role");
      if (!In(role, {"user", "assistant"})) Unknown("messages[].role=", role);
      const json::value* content = m.get_object().if_contains("content");
      if (!content || !content->is_array()) return Error("message content must be an array");
      for (const json::value& b : content->get_array()) {
        if (!b.is_object()) return Error("content blocks must be objects");
        ConverseBlock(b.get_object());
      }
    }
    if (const json::value* sys = body.if_contains("system"); sys && sys->is_array()) {
      for (const json::value& b : sys->get_array()) {
        if (!b.is_object()) return Error("system blocks must be objects");
        ConverseBlock(b.get_object());
      }
    }
    if (const json::value* tc = body.if_contains("toolConfig"); tc && tc->is_object()) {
      if (const json::value* tools = tc->get_object().if_contains("tools"); tools && tools->is_array()) {
        for (const json::value& t : tools->get_array()) {
          if (!t.is_object()) return Error("tools[] must be objects");
          for (const auto& kv : t.get_object()) {
            if (kv.key() == "toolSpec") f_.AddFeature("tools.function");
            else if (kv.key() == "cachePoint") f_.AddFeature("prompt_cache");
            else Unknown("toolConfig.tools[].", kv.key());
          }
        }
      }
      if (const json::value* ch = tc->get_object().if_contains("toolChoice"); ch && ch->is_object()) {
        if (ch->get_object().contains("any") || ch->get_object().contains("tool")) {
          f_.AddFeature("tool_choice.forced");
        }
      }
      if (f_.HasFeature("tools.function")) f_.AddFeature("tools.parallel");
    }
    if (Present(body, "guardrailConfig")) f_.AddFeature("guardrail");
    // Model-native extras are opaque to the gateway: a feature nobody has checked.
    if (const json::value* extra = body.if_contains("additionalModelRequestFields");
        extra && extra->is_object()) {
      for (const auto& kv : extra->get_object()) {
        if (kv.key() == "thinking" || kv.key() == "reasoning_config") f_.AddFeature("reasoning");
        else Unknown("additionalModelRequestFields.", kv.key());
      }
    }
    if (Present(body, "promptVariables")) f_.AddFeature("prompt_management");
    Metadata(body.if_contains("requestMetadata"));
  }

  void BetaHeaders(std::string_view header) {
    while (!header.empty()) {
      auto comma = header.find(',');
      std::string_view name = header.substr(0, comma);
      while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      if (!name.empty()) f_.AddFeature("beta_header:" + SafeName(name));
      if (comma == std::string_view::npos) break;
      header.remove_prefix(comma + 1);
    }
  }

 private:
  RequestFacts& f_;
};

}  // namespace

std::string_view SurfaceName(Surface s) {
  switch (s) {
    case Surface::kOpenAIChat: return "openai.chat_completions";
    case Surface::kOpenAIEmbeddings: return "openai.embeddings";
    case Surface::kOpenAIResponses: return "openai.responses";
    case Surface::kAnthropicMessages: return "anthropic.messages";
    case Surface::kAnthropicCountTokens: return "anthropic.count_tokens";
    case Surface::kBedrockConverse: return "bedrock.converse";
  }
  return "unknown";
}

std::string_view SurfaceEndpoint(Surface s) {
  switch (s) {
    case Surface::kOpenAIChat: return "POST /v1/chat/completions";
    case Surface::kOpenAIEmbeddings: return "POST /v1/embeddings";
    case Surface::kOpenAIResponses: return "POST /v1/responses";
    case Surface::kAnthropicMessages: return "POST /v1/messages";
    case Surface::kAnthropicCountTokens: return "POST /v1/messages/count_tokens";
    case Surface::kBedrockConverse: return "POST /model/{modelId}/converse";
  }
  return "";
}

std::string UpstreamSurface(std::string_view provider, Surface front) {
  std::string_view name = SurfaceName(front);
  std::string_view suffix = name.substr(name.find('.') + 1);
  const bool count = front == Surface::kAnthropicCountTokens;
  if (provider == "openai") return std::string(name);
  if (provider == "anthropic") return count ? "anthropic.count_tokens" : "anthropic.messages";
  if (provider == "azure_openai") return "azure_openai." + std::string(suffix);
  if (provider == "bedrock") {
    return front == Surface::kBedrockConverse ? "bedrock.converse" : "bedrock.invoke";
  }
  if (provider == "vertex_google") return "vertex.generate_content";
  if (provider == "vertex_anthropic") return "vertex.raw_predict";
  return std::string(provider) + "." + std::string(suffix);
}

bool RequestFacts::HasFeature(std::string_view f) const {
  return std::find(features.begin(), features.end(), f) != features.end();
}

void RequestFacts::AddFeature(std::string_view f) {
  if (!HasFeature(f)) features.emplace_back(f);
}

void RequestFacts::AddModalityIn(std::string_view m) {
  if (std::find(modalities_in.begin(), modalities_in.end(), m) == modalities_in.end()) {
    modalities_in.emplace_back(m);
  }
}

void RequestFacts::AddModalityOut(std::string_view m) {
  if (std::find(modalities_out.begin(), modalities_out.end(), m) == modalities_out.end()) {
    modalities_out.emplace_back(m);
  }
}

void RequestFacts::Normalize() {
  for (auto* v : {&features, &modalities_in, &modalities_out, &recipients, &unknown_fields}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
}

void ExtractFacts(Surface surface, const json::object& body, std::string_view beta_headers,
                  RequestFacts* facts) {
  Extractor x(facts);
  facts->AddModalityOut(surface == Surface::kOpenAIEmbeddings ? "embedding" : "text");
  switch (surface) {
    case Surface::kOpenAIChat: x.OpenAIChat(body); break;
    case Surface::kOpenAIEmbeddings: x.OpenAIEmbeddings(body); break;
    case Surface::kOpenAIResponses: x.OpenAIResponses(body); break;
    case Surface::kAnthropicMessages: x.AnthropicMessages(body, false); break;
    case Surface::kAnthropicCountTokens: x.AnthropicMessages(body, true); break;
    case Surface::kBedrockConverse: x.BedrockConverse(body); break;
  }
  if (facts->end_user_id) facts->AddFeature("end_user_id");
  x.BetaHeaders(beta_headers);
  if (facts->model.empty()) {
    const json::value* m = body.if_contains("model");
    if (m && m->is_string()) facts->model = std::string(m->get_string());
  }
  facts->Normalize();
}

}  // namespace baagate::policy
