#include "fake_vendor/fake_vendor.h"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <cstring>
#include <sstream>

#include "http/sse.h"
#include "providers/anthropic/anthropic.h"
#include "providers/bedrock/event_stream.h"
#include "providers/bedrock/sigv4.h"
#include "providers/openai/openai.h"
#include "providers/vertex/oauth.h"

// GCC 12 reports a false -Wmismatched-new-delete on Asio's awaitable frame (allocated and freed
// by Asio's own operator new/delete pair) once this file's coroutines grow past some inlining
// threshold; clang and the sanitizers see no mismatch.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace baagate::fake_vendor {

namespace {

using namespace baagate::http;
namespace json = boost::json;
namespace oa = baagate::providers::openai;
namespace an = baagate::providers::anthropic;
namespace bedrock = baagate::providers::bedrock;
namespace vertex = baagate::providers::vertex;

// The text of a message's content: a string, or the concatenated text parts.
std::string ContentText(const json::value* content) {
  if (!content) return "";
  if (content->is_string()) return std::string(content->as_string());
  std::string out;
  if (content->is_array()) {
    for (const auto& part : content->as_array()) {
      if (!part.is_object()) continue;
      const json::value* t = part.as_object().if_contains("text");
      if (t && t->is_string()) {
        if (!out.empty()) out += ' ';
        out += t->as_string();
      }
    }
  }
  return out;
}

std::int64_t CountWords(std::string_view s) {
  std::int64_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// Finds "[[fake:NAME]]" or "[[fake:NAME=VALUE]]" in text.
bool HasFault(std::string_view text, std::string_view name) {
  std::string marker = "[[fake:" + std::string(name) + "]]";
  return text.find(marker) != std::string_view::npos;
}

int FaultValue(std::string_view text, std::string_view name) {
  std::string marker = "[[fake:" + std::string(name) + "=";
  auto pos = text.find(marker);
  if (pos == std::string_view::npos) return -1;
  pos += marker.size();
  int v = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    v = v * 10 + (text[pos] - '0');
    ++pos;
  }
  return v;
}

std::vector<std::string> SplitForStream(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t sp = text.find(' ', start);
    std::size_t end = sp == std::string::npos ? text.size() : sp + 1;
    parts.push_back(text.substr(start, end - start));
    start = end;
  }
  return parts;
}

class FakeHandler final : public Handler {
 public:
  FakeHandler(FakeVendor& vendor, Worker& worker) : vendor_(vendor), worker_(worker) {}

  net::awaitable<void> Handle(Request& req, Connection& conn) override {
    std::string_view target = req.target();
    std::string path(target.substr(0, target.find('?')));
    if (path.rfind("/_fake/", 0) == 0) {
      co_await Control(req, conn, path);
      co_return;
    }
    FakeVendor::Recorded rec;
    rec.method = std::string(req.method_string());
    rec.path = path;
    for (const auto& f : req) {
      rec.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    rec.body = req.body();
    vendor_.Record(std::move(rec));

    if (path == "/token" && req.method() == bhttp::verb::post) {
      co_await OAuthToken(req, conn);
      co_return;
    }
    constexpr std::string_view kEntraSuffix = "/oauth2/v2.0/token";
    if (path.size() > kEntraSuffix.size() &&
        std::string_view(path).substr(path.size() - kEntraSuffix.size()) == kEntraSuffix &&
        req.method() == bhttp::verb::post) {
      co_await EntraToken(req, conn, path.substr(1, path.size() - kEntraSuffix.size() - 1));
      co_return;
    }
    if (path.rfind("/v1/projects/", 0) == 0) {
      if (co_await Vertex(req, conn, path)) {
        co_await AnthropicMessages(req, conn, an::Endpoint::kMessages, true);
      }
      co_return;
    }
    if (path.rfind("/model/", 0) == 0 && path.size() > 7) {
      co_await Bedrock(req, conn, path);
      co_return;
    }
    const bool azure = path.rfind("/openai/deployments/", 0) == 0 || path.rfind("/openai/v1/", 0) == 0;
    if (azure && !co_await AzurePrelude(req, conn, path)) co_return;
    if (an::ClassifyPath(path) != an::Endpoint::kUnknown) {
      co_await AnthropicMessages(req, conn, an::ClassifyPath(path));
      co_return;
    }
    const Options& opt = vendor_.options();
    if (!opt.api_key.empty() && !azure) {
      auto auth = req[bhttp::field::authorization];
      if (auth != "Bearer " + opt.api_key) {
        co_await Error(conn, 401,
                       "Incorrect API key provided: " + std::string(auth) +
                           ". You can find your API key at https://platform.openai.com.",
                       "invalid_request_error", "invalid_api_key", "");
        co_return;
      }
    }
    if (path == "/v1/models" && req.method() == bhttp::verb::get) {
      co_await Models(conn);
    } else if (path == "/v1/chat/completions" && req.method() == bhttp::verb::post) {
      co_await Chat(req, conn);
    } else if (path == "/v1/embeddings" && req.method() == bhttp::verb::post) {
      co_await Embeddings(req, conn);
    } else {
      co_await Error(conn, 404, "Unknown request URL: " + std::string(req.method_string()) + " " + path,
                     "invalid_request_error", "unknown_url", "");
    }
  }

 private:
  net::awaitable<void> Sleep(int ms) {
    if (ms <= 0) co_return;
    net::steady_timer t(worker_.io(), std::chrono::milliseconds(ms));
    co_await t.async_wait(kTok);
  }

  net::awaitable<void> Json(Connection& conn, unsigned status, std::string body,
                            std::string_view retry_after = {}) {
    Response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set("x-request-id", "req_fake_" + std::to_string(++counter_));
    res.set("openai-processing-ms", "1");
    if (!retry_after.empty()) res.set(bhttp::field::retry_after, retry_after);
    res.body() = std::move(body);
    co_await conn.Send(res);
  }

  net::awaitable<void> Error(Connection& conn, unsigned status, const std::string& message,
                             std::string_view type, std::string_view code, std::string_view param,
                             std::string_view retry_after = {}) {
    co_await Json(conn, status, oa::ErrorJson(message, type, param, code), retry_after);
  }

  net::awaitable<void> Control(Request& req, Connection& conn, const std::string& path) {
    if (path == "/_fake/requests" && req.method() == bhttp::verb::get) {
      co_await Json(conn, 200, vendor_.RecordedJson());
    } else if (path == "/_fake/requests" && req.method() == bhttp::verb::delete_) {
      vendor_.ClearRecorded();
      co_await Json(conn, 200, "{\"cleared\":true}");
    } else if (path == "/_fake/stats") {
      co_await Json(conn, 200, vendor_.StatsJson());
    } else {
      co_await Json(conn, 404, "{\"error\":\"unknown control endpoint\"}");
    }
  }

  net::awaitable<void> Models(Connection& conn) {
    co_await Json(conn, 200,
                  R"({"object":"list","data":[)"
                  R"({"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"},)"
                  R"({"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},)"
                  R"({"id":"text-embedding-3-small","object":"model","created":1705948997,"owned_by":"system"}]})");
  }

  // Sends a stream's events `delay` ms apart, with the in-stream fault the prompt asks for at
  // event `fault_at`: "reset-mid-stream" (the connection is reset), "malformed-sse" (the broken
  // chunk `malformed`, then the stream goes on), "error-event" (`error_event`, then the end) or
  // "truncate-stream" (the end, without the last events). Counts the stream.
  net::awaitable<void> SendEvents(Connection& conn, const std::vector<std::string>& events,
                                  std::string_view prompt, std::size_t fault_at, int delay,
                                  std::string_view malformed, std::string error_event) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (i == fault_at) {
        if (HasFault(prompt, "reset-mid-stream")) {
          conn.Abort();
          vendor_.CountStream(false);
          co_return;
        }
        if (HasFault(prompt, "malformed-sse")) {
          (void)co_await conn.SendChunk(std::string(malformed));
        }
        if (HasFault(prompt, "error-event")) {
          (void)co_await conn.SendChunk(std::move(error_event));
          (void)co_await conn.EndStream();
          vendor_.CountStream(true);
          co_return;
        }
        if (HasFault(prompt, "truncate-stream")) {
          (void)co_await conn.EndStream();
          vendor_.CountStream(true);
          co_return;
        }
      }
      if (i > 0) co_await Sleep(delay);
      if (co_await conn.SendChunk(events[i])) {
        vendor_.CountStream(false);
        co_return;
      }
    }
    vendor_.CountStream(!co_await conn.EndStream());
  }

  // Common fault handling before an answer. Returns true if the fault answered the request.
  net::awaitable<bool> PreFaults(Connection& conn, const std::string& text) {
    const Options& opt = vendor_.options();
    int latency = FaultValue(text, "latency");
    co_await Sleep(latency >= 0 ? latency : opt.latency_ms);
    if (HasFault(text, "timeout")) {
      // Never answer; the gateway's first-byte timeout must fire. Bounded so nothing hangs.
      co_await Sleep(600000);
      conn.Abort();
      co_return true;
    }
    if (HasFault(text, "429") || (opt.fault_rate_429 > 0 && vendor_.NextRandom() < opt.fault_rate_429)) {
      co_await Error(conn, 429,
                     "Rate limit reached for requests. Your prompt was: " + text,
                     "requests", "rate_limit_exceeded", "", "1");
      co_return true;
    }
    if (HasFault(text, "500") || (opt.fault_rate_500 > 0 && vendor_.NextRandom() < opt.fault_rate_500)) {
      co_await Error(conn, 500, "The server had an error processing your prompt: " + text,
                     "server_error", "", "");
      co_return true;
    }
    if (HasFault(text, "400")) {
      co_await Error(conn, 400, "Invalid content in messages[0]: '" + text + "'",
                     "invalid_request_error", "invalid_value", "messages[0].content");
      co_return true;
    }
    co_return false;
  }

  // Parses the request body as a JSON object into `out`; otherwise answers 400 like the real API.
  net::awaitable<bool> ParseBodyOrReject(Request& req, Connection& conn, json::object& out) {
    json::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) {
      co_await Error(conn, 400, "We could not parse the JSON body of your request.",
                     "invalid_request_error", "", "");
      co_return false;
    }
    out = std::move(v.as_object());
    co_return true;
  }

  net::awaitable<void> Chat(Request& req, Connection& conn) {
    json::object body;
    if (!co_await ParseBodyOrReject(req, conn, body)) co_return;
    const json::value* model = body.if_contains("model");
    const json::value* messages = body.if_contains("messages");
    if (!model || !model->is_string()) {
      co_await Error(conn, 400, "you must provide a model parameter", "invalid_request_error", "",
                     "model");
      co_return;
    }
    if (!messages || !messages->is_array() || messages->as_array().empty()) {
      co_await Error(conn, 400, "'messages' must be a non-empty array", "invalid_request_error",
                     "", "messages");
      co_return;
    }
    std::string last_user;
    std::int64_t prompt_tokens = 0;
    for (const auto& m : messages->as_array()) {
      if (!m.is_object()) continue;
      std::string text = ContentText(m.as_object().if_contains("content"));
      prompt_tokens += CountWords(text) + 3;
      const json::value* role = m.as_object().if_contains("role");
      if (role && role->is_string() && role->as_string() == "user") last_user = text;
    }
    if (co_await PreFaults(conn, last_user)) co_return;
    if (HasFault(last_user, "content-filter")) {
      co_await AzureContentFilter(conn, last_user);
      co_return;
    }
    std::string finish_reason = "stop";
    if (HasFault(last_user, "filtered-completion")) finish_reason = "content_filter";

    std::string reply = "ECHO: " + last_user;
    std::int64_t completion_tokens = CountWords(reply);
    std::string model_name(model->as_string());
    std::string id = "chatcmpl-fake" + std::to_string(++counter_);
    const std::int64_t created = 1741290958;
    json::object usage{{"prompt_tokens", prompt_tokens},
                       {"completion_tokens", completion_tokens},
                       {"total_tokens", prompt_tokens + completion_tokens},
                       {"prompt_tokens_details", {{"cached_tokens", 0}, {"audio_tokens", 0}}},
                       {"completion_tokens_details", {{"reasoning_tokens", 0}}}};

    const json::value* stream = body.if_contains("stream");
    if (!(stream && stream->is_bool() && stream->as_bool())) {
      if (HasFault(last_user, "bad-json")) {
        co_await Json(conn, 200, "{\"id\":\"" + id + "\",\"choices\":[");
        co_return;
      }
      json::object res{
          {"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model_name},
          {"choices",
           json::array{json::object{
               {"index", 0},
               {"message", {{"role", "assistant"}, {"content", reply}, {"refusal", nullptr}}},
               {"logprobs", nullptr},
               {"finish_reason", finish_reason}}}},
          {"usage", usage},
          {"service_tier", "default"},
          {"system_fingerprint", "fp_fake"}};
      co_await Json(conn, 200, json::serialize(res));
      co_return;
    }

    bool include_usage = false;
    if (const json::value* so = body.if_contains("stream_options"); so && so->is_object()) {
      const json::value* iu = so->as_object().if_contains("include_usage");
      include_usage = iu && iu->is_bool() && iu->as_bool();
    }
    int delay = FaultValue(last_user, "chunk-delay");
    if (delay < 0) delay = vendor_.options().chunk_delay_ms;

    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
    head.set("x-request-id", "req_fake_" + std::to_string(counter_));
    if (co_await conn.StartStream(head)) {
      vendor_.CountStream(false);
      co_return;
    }
    auto chunk = [&](json::object delta, json::value finish) {
      json::object c{{"id", id},
                     {"object", "chat.completion.chunk"},
                     {"created", created},
                     {"model", model_name},
                     {"system_fingerprint", "fp_fake"},
                     {"choices", json::array{json::object{{"index", 0},
                                                          {"delta", std::move(delta)},
                                                          {"logprobs", nullptr},
                                                          {"finish_reason", std::move(finish)}}}},
                     {"obfuscation", "q7Z"}};
      if (include_usage) c["usage"] = nullptr;
      return EncodeSseEvent(json::serialize(c));
    };

    std::vector<std::string> events;
    events.push_back(chunk({{"role", "assistant"}, {"content", ""}, {"refusal", nullptr}}, nullptr));
    for (const auto& piece : SplitForStream(reply)) events.push_back(chunk({{"content", piece}}, nullptr));
    events.push_back(chunk({}, json::value(json::string(finish_reason))));
    if (include_usage) {
      json::object u{{"id", id},          {"object", "chat.completion.chunk"},
                     {"created", created}, {"model", model_name},
                     {"choices", json::array{}}, {"usage", usage}};
      events.push_back(EncodeSseEvent(json::serialize(u)));
    }
    events.push_back("data: [DONE]\n\n");

    std::string error_event = EncodeSseEvent(oa::ErrorJson(
        "The server had an error while processing: " + last_user, "server_error", "", ""));
    const std::string malformed = "data: {\"id\":\"" + id + "\",\"choices\":[{\"delta\":\n\n";
    co_await SendEvents(conn, events, last_user, std::min<std::size_t>(2, events.size() - 1), delay,
                        malformed, std::move(error_event));
  }

  net::awaitable<void> Embeddings(Request& req, Connection& conn) {
    json::object body;
    if (!co_await ParseBodyOrReject(req, conn, body)) co_return;
    const json::value* model = body.if_contains("model");
    const json::value* input = body.if_contains("input");
    if (!model || !model->is_string() || !input) {
      co_await Error(conn, 400, "model and input are required", "invalid_request_error", "",
                     !model ? "model" : "input");
      co_return;
    }
    std::vector<std::string> inputs;
    if (input->is_string()) {
      inputs.emplace_back(input->as_string());
    } else if (input->is_array()) {
      for (const auto& x : input->as_array()) {
        inputs.push_back(x.is_string() ? std::string(x.as_string()) : json::serialize(x));
      }
    }
    std::string joined;
    for (const auto& s : inputs) joined += s + " ";
    if (co_await PreFaults(conn, joined)) co_return;

    int dims = vendor_.options().embedding_dimensions;
    if (const json::value* d = body.if_contains("dimensions"); d && d->is_int64() &&
                                                               d->as_int64() > 0 &&
                                                               d->as_int64() <= 4096) {
      dims = static_cast<int>(d->as_int64());
    }
    bool b64 = false;
    if (const json::value* f = body.if_contains("encoding_format"); f && f->is_string()) {
      b64 = f->as_string() == "base64";
    }
    json::array data;
    std::int64_t tokens = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      tokens += CountWords(inputs[i]);
      // Deterministic vector from an FNV-1a hash of the input.
      std::uint64_t h = 1469598103934665603ull;
      for (unsigned char c : inputs[i]) h = (h ^ c) * 1099511628211ull;
      std::vector<float> vec(dims);
      for (int k = 0; k < dims; ++k) {
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        vec[k] = static_cast<float>(static_cast<double>(h % 20001) / 10000.0 - 1.0);
      }
      json::value emb;
      if (b64) {
        std::string raw(reinterpret_cast<const char*>(vec.data()), vec.size() * sizeof(float));
        std::string enc;
        enc.resize(beast::detail::base64::encoded_size(raw.size()));
        enc.resize(beast::detail::base64::encode(enc.data(), raw.data(), raw.size()));
        emb = json::string(enc);
      } else {
        json::array arr;
        for (float f : vec) arr.push_back(static_cast<double>(f));
        emb = std::move(arr);
      }
      data.push_back(json::object{{"object", "embedding"}, {"index", i}, {"embedding", std::move(emb)}});
    }
    json::object res{{"object", "list"},
                     {"data", std::move(data)},
                     {"model", model->as_string()},
                     {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
    co_await Json(conn, 200, json::serialize(res));
  }

  // ---- Anthropic Messages (PROVIDERS.md §3.7) -------------------------------------------------

  net::awaitable<void> AnthropicJson(Connection& conn, unsigned status, std::string body,
                                     std::string_view retry_after = {}) {
    Response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set("request-id", "req_fake_" + std::to_string(counter_));
    if (!retry_after.empty()) res.set(bhttp::field::retry_after, retry_after);
    res.body() = std::move(body);
    co_await conn.Send(res);
  }

  // `message` is a string_view: a string literal bound to a std::string parameter inside a
  // co_await operand trips GCC 12 ("array used as initializer").
  net::awaitable<void> AnthropicError(Connection& conn, unsigned status, std::string_view type,
                                      std::string_view message,
                                      std::string_view retry_after = {}) {
    std::string body =
        an::ErrorJson(type, message, "req_fake_" + std::to_string(counter_));
    co_await AnthropicJson(conn, status, std::move(body), retry_after);
  }

  // Returns true when a fault answered the request (Anthropic error shapes; messages quote the
  // prompt on purpose, as in the OpenAI faults).
  net::awaitable<bool> AnthropicPreFaults(Connection& conn, const std::string& text) {
    const Options& opt = vendor_.options();
    int latency = FaultValue(text, "latency");
    co_await Sleep(latency >= 0 ? latency : opt.latency_ms);
    if (HasFault(text, "timeout")) {
      co_await Sleep(600000);
      conn.Abort();
      co_return true;
    }
    if (HasFault(text, "429") || (opt.fault_rate_429 > 0 && vendor_.NextRandom() < opt.fault_rate_429)) {
      co_await AnthropicError(conn, 429, "rate_limit_error",
                              "Number of request tokens has exceeded your rate limit: " + text, "1");
      co_return true;
    }
    if (HasFault(text, "529")) {
      co_await AnthropicError(conn, 529, "overloaded_error", "Overloaded: " + text);
      co_return true;
    }
    if (HasFault(text, "500") || (opt.fault_rate_500 > 0 && vendor_.NextRandom() < opt.fault_rate_500)) {
      co_await AnthropicError(conn, 500, "api_error", "Internal server error for: " + text);
      co_return true;
    }
    if (HasFault(text, "400")) {
      co_await AnthropicError(conn, 400, "invalid_request_error",
                              "messages.0.content: invalid text '" + text + "'");
      co_return true;
    }
    if (HasFault(text, "hipaa-feature")) {
      co_await AnthropicError(conn, 400, "invalid_request_error",
                              "The requested features are not available for HIPAA-regulated "
                              "organizations without Zero Data Retention: code_execution.");
      co_return true;
    }
    co_return false;
  }

  static std::string AnthropicEvent(std::string_view name, json::object data) {
    data["type"] = name;
    return "event: " + std::string(name) + "\ndata: " + json::serialize(data) + "\n\n";
  }

  static json::object AnthropicMessageJson(const std::string& id, const std::string& model,
                                           const std::string& reply, const std::string& tool_id,
                                           const std::string& tool_name,
                                           const std::string& tool_input,
                                           const std::string& stop_reason,
                                           std::int64_t input_tokens,
                                           std::int64_t output_tokens) {
    json::array content{json::object{{"type", "text"}, {"text", reply}}};
    if (!tool_name.empty()) {
      content.push_back(json::object{{"type", "tool_use"},
                                     {"id", tool_id},
                                     {"name", tool_name},
                                     {"input", json::parse(tool_input)}});
    }
    json::object msg{{"id", id},
                     {"type", "message"},
                     {"role", "assistant"},
                     {"model", model},
                     {"content", std::move(content)},
                     {"stop_reason", stop_reason},
                     {"stop_sequence", nullptr},
                     {"usage",
                      {{"input_tokens", input_tokens},
                       {"cache_creation_input_tokens", 0},
                       {"cache_read_input_tokens", 0},
                       {"output_tokens", output_tokens},
                       {"service_tier", "standard"}}}};
    return msg;
  }

  static std::vector<std::string> AnthropicStreamEvents(
      const std::string& id, const std::string& model, const std::string& reply,
      const std::string& tool_id, const std::string& tool_name, const std::string& tool_input,
      const std::string& stop_reason, std::int64_t input_tokens, std::int64_t output_tokens) {
    std::vector<std::string> events;
    events.push_back(AnthropicEvent(
        "message_start",
        {{"message",
          {{"id", id}, {"type", "message"}, {"role", "assistant"}, {"model", model},
           {"content", json::array()}, {"stop_reason", nullptr}, {"stop_sequence", nullptr},
           {"usage", {{"input_tokens", input_tokens}, {"cache_creation_input_tokens", 0},
                      {"cache_read_input_tokens", 0}, {"output_tokens", 1}}}}}}));
    events.push_back(AnthropicEvent("content_block_start",
                                    {{"index", 0}, {"content_block", {{"type", "text"}, {"text", ""}}}}));
    events.push_back(AnthropicEvent("ping", {}));
    for (const auto& piece : SplitForStream(reply)) {
      events.push_back(AnthropicEvent(
          "content_block_delta", {{"index", 0}, {"delta", {{"type", "text_delta"}, {"text", piece}}}}));
    }
    events.push_back(AnthropicEvent("content_block_stop", {{"index", 0}}));
    if (!tool_name.empty()) {
      events.push_back(AnthropicEvent(
          "content_block_start",
          {{"index", 1},
           {"content_block",
            {{"type", "tool_use"}, {"id", tool_id}, {"name", tool_name}, {"input", json::object()}}}}));
      // Fragments split mid-token, as the vendor does.
      for (std::size_t i = 0; i < tool_input.size(); i += 5) {
        events.push_back(AnthropicEvent(
            "content_block_delta",
            {{"index", 1},
             {"delta", {{"type", "input_json_delta"}, {"partial_json", tool_input.substr(i, 5)}}}}));
      }
      events.push_back(AnthropicEvent("content_block_stop", {{"index", 1}}));
    }
    events.push_back(AnthropicEvent(
        "message_delta", {{"delta", {{"stop_reason", stop_reason}, {"stop_sequence", nullptr}}},
                          {"usage", {{"output_tokens", output_tokens}}}}));
    events.push_back(AnthropicEvent("message_stop", {}));

    return events;
  }

  // `google_authenticated`: a Vertex rawPredict call whose Google bearer was already checked
  // (Vertex never takes an x-api-key).
  net::awaitable<void> AnthropicMessages(Request& req, Connection& conn, an::Endpoint endpoint,
                                         bool google_authenticated = false) {
    ++counter_;
    const Options& opt = vendor_.options();
    if (!opt.api_key.empty() && !google_authenticated) {
      const bool key_ok = req["x-api-key"] == opt.api_key ||
                          req[bhttp::field::authorization] == "Bearer " + opt.api_key;
      if (!key_ok) {
        co_await AnthropicError(conn, 401, "authentication_error",
                                "invalid x-api-key: " + std::string(req["x-api-key"]));
        co_return;
      }
    }
    if (req["anthropic-version"].empty()) {
      co_await AnthropicError(conn, 400, "invalid_request_error",
                              "anthropic-version: header is required");
      co_return;
    }
    if (req.method() != bhttp::verb::post) {
      co_await AnthropicError(conn, 405, "invalid_request_error", "Method not allowed");
      co_return;
    }
    an::ParsedRequest parsed;
    an::RequestError perr;
    if (!an::ParseRequest(endpoint, req.body(), &parsed, &perr)) {
      co_await AnthropicError(conn, 400, "invalid_request_error", perr.message);
      co_return;
    }
    std::string last_user;
    std::int64_t input_tokens = 0;
    if (const json::value* sys = parsed.body.if_contains("system")) {
      input_tokens += CountWords(ContentText(sys));
    }
    for (const auto& m : parsed.body.at("messages").as_array()) {
      std::string text = ContentText(m.as_object().if_contains("content"));
      input_tokens += CountWords(text) + 3;
      if (m.as_object().at("role").as_string() == "user") last_user = text;
    }
    if (co_await AnthropicPreFaults(conn, last_user)) co_return;
    if (endpoint == an::Endpoint::kCountTokens) {
      std::string count = json::serialize(json::object{{"input_tokens", input_tokens}});
      co_await AnthropicJson(conn, 200, std::move(count));
      co_return;
    }

    const std::string reply = "ECHO: " + last_user;
    const std::int64_t output_tokens = CountWords(reply);
    std::string tool_name;
    if (HasFault(last_user, "tool-use")) {
      if (const json::value* tools = parsed.body.if_contains("tools");
          tools && tools->is_array() && !tools->as_array().empty() &&
          tools->as_array()[0].is_object()) {
        if (const json::value* n = tools->as_array()[0].as_object().if_contains("name");
            n && n->is_string()) {
          tool_name = std::string(n->as_string());
        }
      }
    }
    // No conditional expression over string literals here: GCC 12 rejects it in a coroutine.
    std::string stop_reason = "end_turn";
    if (!tool_name.empty()) stop_reason = "tool_use";
    if (HasFault(last_user, "refusal")) stop_reason = "refusal";
    const std::string id = "msg_fake" + std::to_string(counter_);
    const std::string tool_id = "toolu_fake" + std::to_string(counter_);
    const std::string tool_input = R"({"query":"fake lookup","limit":3})";

    if (!parsed.stream) {
      if (HasFault(last_user, "bad-json")) {
        co_await AnthropicJson(conn, 200, "{\"id\":\"" + id + "\",\"content\":[");
        co_return;
      }
      json::object msg = AnthropicMessageJson(id, parsed.model, reply, tool_id, tool_name,
                                               tool_input, stop_reason, input_tokens,
                                               output_tokens);
      co_await AnthropicJson(conn, 200, json::serialize(msg));
      co_return;
    }

    int delay = FaultValue(last_user, "chunk-delay");
    if (delay < 0) delay = opt.chunk_delay_ms;
    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
    head.set("request-id", "req_fake_" + std::to_string(counter_));
    if (co_await conn.StartStream(head)) {
      vendor_.CountStream(false);
      co_return;
    }
    std::vector<std::string> events =
        AnthropicStreamEvents(id, parsed.model, reply, tool_id, tool_name, tool_input, stop_reason,
                              input_tokens, output_tokens);
    std::string error_event = AnthropicEvent(
        "error", {{"error", {{"type", "overloaded_error"},
                             {"message", "Overloaded while answering: " + last_user}}}});
    co_await SendEvents(conn, events, last_user, std::min<std::size_t>(3, events.size() - 1), delay,
                        "event: content_block_delta\ndata: {\"type\":\"content_bl\n\n",
                        std::move(error_event));
  }

  // ---- Bedrock runtime, InvokeModel for Anthropic models (PROVIDERS.md §5.4, §5.9) -----------

  net::awaitable<void> BedrockError(Connection& conn, unsigned status, std::string_view type,
                                    std::string_view message) {
    Response res{static_cast<bhttp::status>(status), 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set("x-amzn-requestid", "fake-" + std::to_string(counter_));
    res.set("x-amzn-ErrorType", type);
    res.body() = json::serialize(json::object{{"message", message}});
    co_await conn.Send(res);
  }

  static std::string PercentDecode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size()) {
        out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  }

  static std::string Base64(std::string_view raw) {
    std::string enc;
    enc.resize(beast::detail::base64::encoded_size(raw.size()));
    enc.resize(beast::detail::base64::encode(enc.data(), raw.data(), raw.size()));
    return enc;
  }

  // The Anthropic events of AnthropicStreamEvents as Bedrock `chunk` messages.
  static std::string BedrockChunks(const std::vector<std::string>& sse_events,
                                   std::int64_t input_tokens, std::int64_t output_tokens) {
    std::string out;
    for (const auto& ev : sse_events) {
      std::size_t d = ev.find("\ndata: ");
      std::string data = ev.substr(d + 7, ev.size() - d - 7 - 2);
      if (data.find("\"message_stop\"") != std::string::npos) {
        json::object o = json::parse(data).as_object();
        o["amazon-bedrock-invocationMetrics"] = {{"inputTokenCount", input_tokens},
                                                 {"outputTokenCount", output_tokens},
                                                 {"invocationLatency", 1},
                                                 {"firstByteLatency", 1}};
        data = json::serialize(o);
      }
      out += bedrock::EncodeBedrockEvent(
          "chunk", json::serialize(json::object{{"bytes", Base64(data)}}));
    }
    return out;
  }

  // SigV4 verification as AWS does it: 403 with the expected canonical request on a mismatch.
  // Returns false when it answered.
  net::awaitable<bool> BedrockVerifySignature(Request& req, Connection& conn) {
    const Options& opt = vendor_.options();
    if (opt.aws_access_key_id.empty()) co_return true;
    bedrock::SigV4Request sreq;
    sreq.method = req.method_string();
    std::string_view target = req.target();
    std::size_t q = target.find('?');
    sreq.path = target.substr(0, q);
    sreq.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    for (const auto& f : req) {
      sreq.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    sreq.payload = req.body();
    bedrock::AwsCredentials creds{opt.aws_access_key_id,
                                  core::SecretString(opt.aws_secret_access_key), {}};
    std::string canonical;
    core::Status st = bedrock::VerifyRequest(sreq, creds, &canonical);
    if (st.ok()) co_return true;
    std::string message =
        st.code() == core::StatusCode::kPermissionDenied
            ? "The request signature we calculated does not match the signature you "
              "provided. The Canonical String for this request should have been\n'" +
                  canonical + "'"
            : "Missing Authentication Token";
    co_await BedrockError(conn, 403,
                          st.code() == core::StatusCode::kPermissionDenied
                              ? "InvalidSignatureException"
                              : "MissingAuthenticationTokenException",
                          message);
    co_return false;
  }

  net::awaitable<void> Bedrock(Request& req, Connection& conn, const std::string& path) {
    ++counter_;
    // /model/{modelId}/{operation}
    const std::size_t slash = path.find('/', 7);
    const std::string model_id = PercentDecode(path.substr(7, slash - 7));
    const std::string op = slash == std::string::npos ? "" : path.substr(slash + 1);
    if (!co_await BedrockVerifySignature(req, conn)) co_return;
    if (op == "converse" || op == "converse-stream") {
      co_await BedrockConverse(req, conn, op == "converse-stream");
      co_return;
    }
    if (op == "invoke" || op == "invoke-with-response-stream") {
      co_await BedrockInvoke(req, conn, model_id, op == "invoke-with-response-stream");
      co_return;
    }
    co_await BedrockError(conn, 404, "UnknownOperationException", "Unknown operation");
  }

  // The faults before an answer, shared by InvokeModel and Converse (messages quote the prompt
  // on purpose, as real vendor errors may). Returns true when a fault answered the request.
  net::awaitable<bool> BedrockPreFaults(Connection& conn, const std::string& last_user) {
    const Options& opt = vendor_.options();
    int latency = FaultValue(last_user, "latency");
    co_await Sleep(latency >= 0 ? latency : opt.latency_ms);
    if (HasFault(last_user, "timeout")) {
      co_await Sleep(600000);  // never answer; bounded so nothing hangs
      conn.Abort();
      co_return true;
    }
    if (HasFault(last_user, "429") ||
        (opt.fault_rate_429 > 0 && vendor_.NextRandom() < opt.fault_rate_429)) {
      co_await BedrockError(conn, 429, "ThrottlingException",
                            "Too many requests, please wait before trying again: " + last_user);
      co_return true;
    }
    if (HasFault(last_user, "500") ||
        (opt.fault_rate_500 > 0 && vendor_.NextRandom() < opt.fault_rate_500)) {
      co_await BedrockError(conn, 500, "InternalServerException",
                            "The server encountered an error processing: " + last_user);
      co_return true;
    }
    co_return false;
  }

  static std::uint32_t FrameLength(const std::string& frames, std::size_t at) {
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(frames[at])) << 24 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(frames[at + 1])) << 16 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(frames[at + 2])) << 8 |
           static_cast<std::uint32_t>(static_cast<std::uint8_t>(frames[at + 3]));
  }

  // Sends event-stream `frames` with the in-stream faults shared by InvokeModelWithResponseStream
  // and ConverseStream: error-event (two messages, then a modelStreamErrorException), bad-crc,
  // truncate-stream, chunk-delay; frames are split at odd byte boundaries.
  net::awaitable<void> SendBedrockStream(Connection& conn, std::string frames,
                                         const std::string& last_user) {
    if (HasFault(last_user, "error-event")) {
      std::size_t cut = 0;
      for (int k = 0; k < 2 && cut + 4 <= frames.size(); ++k) cut += FrameLength(frames, cut);
      frames = frames.substr(0, cut) +
               bedrock::EncodeBedrockException(
                   "modelStreamErrorException",
                   json::serialize(json::object{{"message", "Model failed on: " + last_user}}));
    }
    if (HasFault(last_user, "bad-crc")) frames[frames.size() / 2] ^= 0x20;
    if (HasFault(last_user, "truncate-stream")) frames.resize(frames.size() - 7);
    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "application/vnd.amazon.eventstream");
    head.set("x-amzn-requestid", "fake-" + std::to_string(counter_));
    head.set("x-amzn-bedrock-content-type", "application/json");
    if (co_await conn.StartStream(head)) {
      vendor_.CountStream(false);
      co_return;
    }
    int delay = FaultValue(last_user, "chunk-delay");
    if (delay < 0) delay = vendor_.options().chunk_delay_ms;
    // Split at odd byte boundaries so frames straddle reads, as real networks do.
    constexpr std::size_t kPiece = 37;
    for (std::size_t at = 0; at < frames.size(); at += kPiece) {
      if (at > 0) co_await Sleep(delay);
      if (co_await conn.SendChunk(frames.substr(at, kPiece))) {
        vendor_.CountStream(false);
        co_return;
      }
    }
    if (co_await conn.EndStream()) {
      vendor_.CountStream(false);
      co_return;
    }
    vendor_.CountStream(true);
  }

  net::awaitable<void> BedrockInvoke(Request& req, Connection& conn, const std::string& model_id,
                                     bool stream) {
    json::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) {
      co_await BedrockError(conn, 400, "ValidationException", "Malformed input request");
      co_return;
    }
    json::object& body = v.as_object();
    const json::value* av = body.if_contains("anthropic_version");
    if (av == nullptr || !av->is_string() || av->as_string() != "bedrock-2023-05-31") {
      co_await BedrockError(conn, 400, "ValidationException",
                            "Malformed input request: anthropic_version must be bedrock-2023-05-31");
      co_return;
    }
    for (std::string_view extraneous : {"model", "stream"}) {
      if (body.contains(extraneous)) {
        co_await BedrockError(conn, 400, "ValidationException",
                              "Malformed input request: extraneous key [" +
                                  std::string(extraneous) + "] is not permitted");
        co_return;
      }
    }
    // The rest is the Messages body: validate it as the Anthropic API would.
    json::object as_messages = body;
    as_messages.erase("anthropic_version");
    as_messages.erase("anthropic_beta");
    as_messages["model"] = model_id;
    an::ParsedRequest parsed;
    an::RequestError perr;
    if (!an::ParseRequest(an::Endpoint::kMessages, json::serialize(as_messages), &parsed, &perr)) {
      co_await BedrockError(conn, 400, "ValidationException", perr.message);
      co_return;
    }
    std::string last_user;
    std::int64_t input_tokens = 0;
    for (const auto& m : parsed.body.at("messages").as_array()) {
      std::string text = ContentText(m.as_object().if_contains("content"));
      input_tokens += CountWords(text) + 3;
      if (m.as_object().at("role").as_string() == "user") last_user = text;
    }
    if (co_await BedrockPreFaults(conn, last_user)) co_return;
    const std::string reply = "ECHO: " + last_user;
    const std::int64_t output_tokens = CountWords(reply);
    const std::string id = "msg_bdrk_fake" + std::to_string(counter_);
    std::string stop_reason = "end_turn";
    if (HasFault(last_user, "refusal")) stop_reason = "refusal";
    if (!stream) {
      json::object msg = AnthropicMessageJson(id, model_id, reply, "", "", "{}", stop_reason,
                                              input_tokens, output_tokens);
      Response res{bhttp::status::ok, 11};
      res.set(bhttp::field::content_type, "application/json");
      res.set("x-amzn-requestid", "fake-" + std::to_string(counter_));
      res.set("x-amzn-bedrock-input-token-count", std::to_string(input_tokens));
      res.set("x-amzn-bedrock-output-token-count", std::to_string(output_tokens));
      res.set("x-amzn-bedrock-invocation-latency", "1");
      res.body() = json::serialize(msg);
      co_await conn.Send(res);
      co_return;
    }
    std::vector<std::string> sse = AnthropicStreamEvents(id, model_id, reply, "", "", "{}",
                                                         stop_reason, input_tokens, output_tokens);
    co_await SendBedrockStream(conn, BedrockChunks(sse, input_tokens, output_tokens), last_user);
  }

  // ---- Bedrock Converse / ConverseStream (PROVIDERS.md §5.2, §5.3) ----------------------------

  // Validates a Converse body the way the service does (unknown keys, roles, one member per
  // content block). Returns "" when valid, else the ValidationException message.
  static std::string ValidateConverse(const json::object& body) {
    static constexpr std::string_view kKnown[] = {
        "messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig",
        "additionalModelRequestFields", "additionalModelResponseFieldPaths", "promptVariables",
        "requestMetadata", "performanceConfig"};
    for (const auto& kv : body) {
      bool known = false;
      for (auto k : kKnown) known = known || kv.key() == k;
      if (!known) return "Malformed input request: extraneous key [" + std::string(kv.key()) + "]";
    }
    const json::value* msgs = body.if_contains("messages");
    if (msgs == nullptr || !msgs->is_array() || msgs->as_array().empty()) {
      return "A conversation must start with a user message.";
    }
    std::string_view previous;
    for (const auto& mv : msgs->as_array()) {
      const json::object* m = mv.if_object();
      const json::value* role = m ? m->if_contains("role") : nullptr;
      const json::value* content = m ? m->if_contains("content") : nullptr;
      if (role == nullptr || !role->is_string() ||
          (role->as_string() != "user" && role->as_string() != "assistant") ||
          content == nullptr || !content->is_array() || content->as_array().empty()) {
        return "Malformed input request: each message needs a role and content blocks";
      }
      if (previous.empty() && role->as_string() != "user") {
        return "A conversation must start with a user message.";
      }
      if (previous == std::string_view(role->as_string())) {
        return "A conversation must alternate between user and assistant roles.";
      }
      previous = role->as_string();
      for (const auto& b : content->as_array()) {
        if (!b.is_object() || b.as_object().size() != 1) {
          return "Malformed input request: a content block has exactly one member";
        }
        const std::string_view key = b.as_object().begin()->key();
        if (key != "text" && key != "image" && key != "document" && key != "video" &&
            key != "toolUse" && key != "toolResult" && key != "guardContent" &&
            key != "reasoningContent" && key != "cachePoint") {
          return "Malformed input request: unknown content block";
        }
      }
    }
    return "";
  }

  static std::string ConverseText(const json::value& content) {
    std::string out;
    if (!content.is_array()) return out;
    for (const auto& b : content.as_array()) {
      const json::value* t = b.is_object() ? b.as_object().if_contains("text") : nullptr;
      if (t == nullptr || !t->is_string()) continue;
      if (!out.empty()) out += " ";
      out += std::string(t->as_string());
    }
    return out;
  }

  // ConverseStream messages: each payload is the union member without a wrapping key, padded
  // with a random-length "p" field as the service does.
  static std::string ConverseFrame(std::string_view type, json::object payload) {
    payload["p"] = std::string(1 + payload.size() % 7, 'x');
    return bedrock::EncodeBedrockEvent(type, json::serialize(payload));
  }

  net::awaitable<void> BedrockConverse(Request& req, Connection& conn, bool stream) {
    json::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) {
      co_await BedrockError(conn, 400, "ValidationException", "Malformed input request");
      co_return;
    }
    const json::object& body = v.as_object();
    if (std::string invalid = ValidateConverse(body); !invalid.empty()) {
      co_await BedrockError(conn, 400, "ValidationException", invalid);
      co_return;
    }
    std::string last_user;
    std::int64_t input_tokens = 0;
    for (const auto& m : body.at("messages").as_array()) {
      std::string text = ConverseText(m.as_object().at("content"));
      input_tokens += CountWords(text) + 3;
      if (m.as_object().at("role").as_string() == "user") last_user = text;
    }
    if (co_await BedrockPreFaults(conn, last_user)) co_return;
    const std::string reply = "ECHO: " + last_user;
    const std::int64_t output_tokens = CountWords(reply);
    std::string stop_reason = "end_turn";
    if (HasFault(last_user, "refusal")) stop_reason = "guardrail_intervened";
    // tool-use: the first configured tool is called with fixed input.
    std::string tool_name;
    if (HasFault(last_user, "tool-use")) {
      const json::value* tc = body.if_contains("toolConfig");
      const json::value* tools = tc && tc->is_object() ? tc->as_object().if_contains("tools")
                                                       : nullptr;
      if (tools && tools->is_array() && !tools->as_array().empty()) {
        const json::value& spec = tools->as_array()[0];
        if (spec.is_object() && spec.as_object().contains("toolSpec")) {
          tool_name = std::string(spec.at("toolSpec").at("name").as_string());
          stop_reason = "tool_use";
        }
      }
    }
    const std::string tool_id = "tooluse_fake" + std::to_string(counter_);
    const std::string tool_input = R"({"q":"fake"})";
    json::object usage{{"inputTokens", input_tokens},
                       {"outputTokens", output_tokens},
                       {"totalTokens", input_tokens + output_tokens}};
    if (!stream) {
      json::array content{json::object{{"text", reply}}};
      if (!tool_name.empty()) {
        content.push_back(json::object{{"toolUse", {{"toolUseId", tool_id},
                                                    {"name", tool_name},
                                                    {"input", json::parse(tool_input)}}}});
      }
      Response res{bhttp::status::ok, 11};
      res.set(bhttp::field::content_type, "application/json");
      res.set("x-amzn-requestid", "fake-" + std::to_string(counter_));
      res.body() = json::serialize(json::object{
          {"output", {{"message", {{"role", "assistant"}, {"content", std::move(content)}}}}},
          {"stopReason", stop_reason},
          {"usage", usage},
          {"metrics", {{"latencyMs", 1}}}});
      co_await conn.Send(res);
      co_return;
    }
    std::string frames = ConverseFrame("messageStart", {{"role", "assistant"}});
    std::size_t at = 0;
    while (at < reply.size()) {  // word by word, as models stream
      std::size_t next = reply.find(' ', at + 1);
      if (next == std::string::npos) next = reply.size();
      frames += ConverseFrame("contentBlockDelta",
                              {{"contentBlockIndex", 0},
                               {"delta", {{"text", reply.substr(at, next - at)}}}});
      at = next;
    }
    frames += ConverseFrame("contentBlockStop", {{"contentBlockIndex", 0}});
    if (!tool_name.empty()) {
      frames += ConverseFrame("contentBlockStart",
                              {{"contentBlockIndex", 1},
                               {"start", {{"toolUse", {{"toolUseId", tool_id},
                                                       {"name", tool_name}}}}}});
      for (std::size_t i = 0; i < tool_input.size(); i += 4) {
        frames += ConverseFrame("contentBlockDelta",
                                {{"contentBlockIndex", 1},
                                 {"delta", {{"toolUse", {{"input", tool_input.substr(i, 4)}}}}}});
      }
      frames += ConverseFrame("contentBlockStop", {{"contentBlockIndex", 1}});
    }
    frames += ConverseFrame("messageStop", {{"stopReason", stop_reason}});
    frames += ConverseFrame("metadata", {{"usage", usage}, {"metrics", {{"latencyMs", 1}}}});
    co_await SendBedrockStream(conn, std::move(frames), last_user);
  }

  // ---- Azure OpenAI (PROVIDERS.md §4): deployment URLs and the v1 API --------------------------

  // Rewrites an Azure request into the OpenAI one the chat/embeddings handlers answer, after
  // the Azure-specific checks. Returns false when it already answered.
  net::awaitable<bool> AzurePrelude(Request& req, Connection& conn, std::string& path) {
    const Options& opt = vendor_.options();
    auto auth = req[bhttp::field::authorization];
    const bool entra_ok = !opt.entra_client_id.empty() && auth.substr(0, 7) == "Bearer " &&
                          vendor_.IsEntraToken(auth.substr(7));
    if (!opt.api_key.empty() && req["api-key"] != opt.api_key &&
        auth != "Bearer " + opt.api_key && !entra_ok) {
      co_await Json(conn, 401,
                    R"({"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}})");
      co_return false;
    }
    if (path.rfind("/openai/v1/", 0) == 0) {
      path = "/v1/" + path.substr(11);
      co_return true;
    }
    // /openai/deployments/{deployment}/{operation}?api-version=…
    std::string_view target = req.target();
    if (target.find("api-version=") == std::string_view::npos) {
      co_await Json(conn, 404,
                    R"({"error":{"code":"404","message":"Resource not found"}})");
      co_return false;
    }
    const std::size_t start = std::string("/openai/deployments/").size();
    const std::size_t slash = path.find('/', start);
    if (slash == std::string::npos) {
      co_await Json(conn, 404, R"({"error":{"code":"404","message":"Resource not found"}})");
      co_return false;
    }
    const std::string deployment = path.substr(start, slash - start);
    path = "/v1" + path.substr(slash);
    // The deployment selects the model; the body's model (if any) is ignored, as Azure does.
    json::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (!ec && v.is_object()) {
      v.as_object()["model"] = deployment;
      req.body() = json::serialize(v);
      req.prepare_payload();
    }
    co_return true;
  }

  // Azure's blocked-prompt answer (quotes the prompt on purpose).
  net::awaitable<void> AzureContentFilter(Connection& conn, const std::string& text) {
    json::object filtered{{"hate", {{"filtered", true}, {"severity", "high"}}},
                          {"self_harm", {{"filtered", false}, {"severity", "safe"}}},
                          {"sexual", {{"filtered", false}, {"severity", "safe"}}},
                          {"violence", {{"filtered", false}, {"severity", "safe"}}}};
    json::object err{{"message", "The response was filtered due to the prompt triggering "
                                 "Azure OpenAI's content management policy: " + text},
                     {"type", nullptr},
                     {"param", "prompt"},
                     {"code", "content_filter"},
                     {"status", 400},
                     {"innererror", {{"code", "ResponsibleAIPolicyViolation"},
                                     {"content_filter_result", std::move(filtered)}}}};
    std::string body = json::serialize(json::object{{"error", std::move(err)}});
    co_await Json(conn, 400, std::move(body));
  }

  // ---- Google: OAuth token endpoint and Vertex AI (PROVIDERS.md §6.4, §6.8) ------------------

  net::awaitable<void> GoogleError(Connection& conn, unsigned status, std::string_view gstatus,
                                   std::string_view message) {
    std::string body = json::serialize(json::object{
        {"error", {{"code", status}, {"message", message}, {"status", gstatus}}}});
    co_await Json(conn, status, std::move(body));
  }

  static std::string FormField(std::string_view body, std::string_view name) {
    std::string key = std::string(name) + "=";
    std::size_t pos = 0;
    while (pos < body.size()) {
      std::size_t amp = body.find('&', pos);
      std::string_view part = body.substr(pos, amp == std::string_view::npos ? body.npos : amp - pos);
      if (part.substr(0, key.size()) == key) return PercentDecode(part.substr(key.size()));
      if (amp == std::string_view::npos) break;
      pos = amp + 1;
    }
    return "";
  }

  net::awaitable<void> OAuthToken(Request& req, Connection& conn) {
    ++counter_;
    const std::string body(req.body());
    if (FormField(body, "grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      co_await Json(conn, 400, R"({"error":"unsupported_grant_type"})");
      co_return;
    }
    const std::string aud = "http://" + std::string(req[bhttp::field::host]) + "/token";
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    auto claims = vertex::VerifyJwtAssertion(FormField(body, "assertion"),
                                             vendor_.options().google_key_pem, aud, now);
    if (!claims.ok()) {
      co_await Json(conn, 400,
                    R"({"error":"invalid_grant","error_description":"Invalid JWT Signature."})");
      co_return;
    }
    std::string token = vendor_.IssueGoogleToken();
    std::string answer = json::serialize(json::object{{"access_token", token},
                                                      {"expires_in", vendor_.options().google_token_lifetime_s},
                                                      {"token_type", "Bearer"}});
    co_await Json(conn, 200, std::move(answer));
  }

  // Microsoft identity platform, client-credentials grant (PROVIDERS.md §4.2). Error bodies
  // carry AADSTS text naming the client on purpose: the gateway must not pass it on.
  net::awaitable<void> EntraToken(Request& req, Connection& conn, const std::string& tenant) {
    ++counter_;
    const Options& opt = vendor_.options();
    const std::string body(req.body());
    if (opt.entra_client_id.empty() || tenant != opt.entra_tenant_id) {
      co_await Json(conn, 400,
                    R"({"error":"invalid_request","error_description":"AADSTS90002: Tenant not found."})");
      co_return;
    }
    if (FormField(body, "grant_type") != "client_credentials") {
      co_await Json(conn, 400, R"({"error":"unsupported_grant_type"})");
      co_return;
    }
    if (FormField(body, "client_id") != opt.entra_client_id ||
        FormField(body, "client_secret") != opt.entra_client_secret) {
      std::string err = json::serialize(json::object{
          {"error", "invalid_client"},
          {"error_description", "AADSTS7000215: Invalid client secret provided for app '" +
                                    FormField(body, "client_id") + "'."}});
      co_await Json(conn, 401, std::move(err));
      co_return;
    }
    if (FormField(body, "scope") != "https://cognitiveservices.azure.com/.default") {
      co_await Json(conn, 400,
                    R"({"error":"invalid_scope","error_description":"AADSTS70011: The provided scope is not valid."})");
      co_return;
    }
    std::string answer = json::serialize(json::object{{"token_type", "Bearer"},
                                                      {"expires_in", opt.entra_token_lifetime_s},
                                                      {"ext_expires_in", opt.entra_token_lifetime_s},
                                                      {"access_token", vendor_.IssueEntraToken()}});
    co_await Json(conn, 200, std::move(answer));
  }

  static std::vector<std::string> GeminiEvents(const std::string& reply, const std::string& finish,
                                               std::int64_t prompt_tokens,
                                               std::int64_t output_tokens) {
    std::vector<std::string> out;
    const auto pieces = SplitForStream(reply);
    for (std::size_t i = 0; i < pieces.size(); ++i) {
      json::object cand{{"index", 0},
                        {"content", {{"role", "model"}, {"parts", json::array{json::object{{"text", pieces[i]}}}}}}};
      json::object ev{{"candidates", json::array{}}, {"modelVersion", "gemini-fake"}};
      if (i + 1 == pieces.size()) {
        cand["finishReason"] = finish;
        ev["usageMetadata"] = {{"promptTokenCount", prompt_tokens},
                               {"candidatesTokenCount", output_tokens},
                               {"totalTokenCount", prompt_tokens + output_tokens}};
      }
      ev["candidates"].as_array().push_back(std::move(cand));
      out.push_back(EncodeSseEvent(json::serialize(ev)));
    }
    return out;
  }

  // Returns true when the request was rewritten into an Anthropic Messages call (rawPredict) for
  // the caller to answer; false when it was answered here.
  net::awaitable<bool> Vertex(Request& req, Connection& conn, const std::string& path) {
    ++counter_;
    if (!vendor_.options().google_key_pem.empty()) {
      auto auth = req[bhttp::field::authorization];
      if (auth.substr(0, 7) != "Bearer " || !vendor_.IsGoogleToken(auth.substr(7))) {
        co_await GoogleError(conn, 401, "UNAUTHENTICATED",
                             "Request had invalid authentication credentials.");
        co_return false;
      }
    }
    // /v1/projects/{p}/locations/{l}/publishers/{publisher}/models/{model}:{verb}
    const std::size_t colon = path.rfind(':');
    const std::size_t models = path.find("/models/");
    const std::size_t publishers = path.find("/publishers/");
    if (colon == std::string::npos || models == std::string::npos ||
        publishers == std::string::npos || path.find("/locations/") == std::string::npos) {
      co_await GoogleError(conn, 404, "NOT_FOUND", "Requested entity was not found.");
      co_return false;
    }
    const std::string publisher = path.substr(publishers + 12, models - publishers - 12);
    const std::string model = path.substr(models + 8, colon - models - 8);
    const std::string verb = path.substr(colon + 1);
    json::error_code ec;
    json::value v = json::parse(req.body(), ec);
    if (ec || !v.is_object()) {
      co_await GoogleError(conn, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
      co_return false;
    }
    json::object& body = v.as_object();
    if (publisher == "anthropic" && (verb == "rawPredict" || verb == "streamRawPredict")) {
      const json::value* av = body.if_contains("anthropic_version");
      if (av == nullptr || !av->is_string() || av->as_string() != "vertex-2023-10-16" ||
          body.contains("model")) {
        co_await AnthropicError(conn, 400, "invalid_request_error",
                                "anthropic_version must be vertex-2023-10-16 and model is not "
                                "allowed in the body");
        co_return false;
      }
      body.erase("anthropic_version");
      body["model"] = model;
      req.body() = json::serialize(body);
      req.set("anthropic-version", "2023-06-01");
      req.prepare_payload();
      co_return true;
    }
    if (publisher != "google" || (verb != "generateContent" && verb != "streamGenerateContent")) {
      co_await GoogleError(conn, 404, "NOT_FOUND", "Requested entity was not found.");
      co_return false;
    }
    const json::value* contents = body.if_contains("contents");
    if (contents == nullptr || !contents->is_array() || contents->as_array().empty()) {
      co_await GoogleError(conn, 400, "INVALID_ARGUMENT", "contents is required.");
      co_return false;
    }
    std::string last_user;
    std::int64_t prompt_tokens = 0;
    for (const auto& c : contents->as_array()) {
      if (!c.is_object()) continue;
      std::string text = ContentText(c.as_object().if_contains("parts"));
      prompt_tokens += CountWords(text);
      const json::value* role = c.as_object().if_contains("role");
      if (role == nullptr || (role->is_string() && role->as_string() == "user")) last_user = text;
    }
    if (co_await GooglePreFaults(conn, last_user)) co_return false;
    const std::string reply = "ECHO: " + last_user;
    const std::int64_t output_tokens = CountWords(reply);
    std::string finish = "STOP";
    if (HasFault(last_user, "safety")) finish = "SAFETY";
    if (HasFault(last_user, "blocked-prompt")) {
      std::string blocked = json::serialize(json::object{
          {"promptFeedback", {{"blockReason", "SAFETY"}}},
          {"usageMetadata", {{"promptTokenCount", prompt_tokens}, {"totalTokenCount", prompt_tokens}}}});
      if (verb == "generateContent") {
        co_await Json(conn, 200, std::move(blocked));
        co_return false;
      }
      // A streamed call blocked on its prompt: one SSE event with the feedback, no candidates.
      bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
      head.set(bhttp::field::content_type, "text/event-stream");
      if (co_await conn.StartStream(head) || co_await conn.SendChunk(EncodeSseEvent(blocked))) {
        vendor_.CountStream(false);
        co_return false;
      }
      (void)co_await conn.EndStream();
      vendor_.CountStream(true);
      co_return false;
    }
    if (verb == "generateContent") {
      json::array parts;
      if (finish == "STOP") parts.push_back(json::object{{"text", reply}});
      std::string answer = json::serialize(json::object{
          {"candidates",
           json::array{json::object{{"index", 0},
                                    {"content", {{"role", "model"}, {"parts", std::move(parts)}}},
                                    {"finishReason", finish}}}},
          {"usageMetadata",
           {{"promptTokenCount", prompt_tokens},
            {"candidatesTokenCount", output_tokens},
            {"totalTokenCount", prompt_tokens + output_tokens}}},
          {"modelVersion", model},
          {"responseId", "fake-" + std::to_string(counter_)}});
      if (HasFault(last_user, "bad-json")) answer = answer.substr(0, answer.size() / 2);
      co_await Json(conn, 200, std::move(answer));
      co_return false;
    }
    if (req.target().find("alt=sse") == std::string_view::npos) {
      co_await GoogleError(conn, 400, "INVALID_ARGUMENT",
                           "the fake only streams with alt=sse (JSON-array streams are not emulated)");
      co_return false;
    }
    bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
    head.set(bhttp::field::content_type, "text/event-stream");
    if (co_await conn.StartStream(head)) {
      vendor_.CountStream(false);
      co_return false;
    }
    // The in-stream faults of the OpenAI fake, at the third event.
    const std::vector<std::string> events = GeminiEvents(reply, finish, prompt_tokens, output_tokens);
    int delay = FaultValue(last_user, "chunk-delay");
    if (delay < 0) delay = vendor_.options().chunk_delay_ms;
    json::object detail{{"code", 500},
                        {"message", "Internal error on: " + last_user},
                        {"status", "INTERNAL"}};
    std::string error_event =
        EncodeSseEvent(json::serialize(json::object{{"error", std::move(detail)}}));
    co_await SendEvents(conn, events, last_user, std::min<std::size_t>(2, events.size() - 1), delay,
                        "data: {\"candidates\":[{\"content\":\n\n", std::move(error_event));
    co_return false;
  }

  // The OpenAI fake's faults before an answer, in Google's error shape (messages quote the
  // prompt on purpose). Returns true when a fault answered the request.
  net::awaitable<bool> GooglePreFaults(Connection& conn, const std::string& last_user) {
    const Options& opt = vendor_.options();
    int latency = FaultValue(last_user, "latency");
    co_await Sleep(latency >= 0 ? latency : opt.latency_ms);
    if (HasFault(last_user, "timeout")) {
      co_await Sleep(600000);  // never answer; bounded so nothing hangs
      conn.Abort();
      co_return true;
    }
    if (HasFault(last_user, "429") ||
        (opt.fault_rate_429 > 0 && vendor_.NextRandom() < opt.fault_rate_429)) {
      co_await GoogleError(conn, 429, "RESOURCE_EXHAUSTED", "Quota exceeded for: " + last_user);
      co_return true;
    }
    if (HasFault(last_user, "500") ||
        (opt.fault_rate_500 > 0 && vendor_.NextRandom() < opt.fault_rate_500)) {
      co_await GoogleError(conn, 500, "INTERNAL", "Internal error encountered for: " + last_user);
      co_return true;
    }
    if (HasFault(last_user, "400")) {
      co_await GoogleError(conn, 400, "INVALID_ARGUMENT", "Invalid content: " + last_user);
      co_return true;
    }
    co_return false;
  }

  FakeVendor& vendor_;
  Worker& worker_;
  std::uint64_t counter_ = 0;
};

}  // namespace

std::unique_ptr<http::Handler> FakeVendor::MakeHandler(http::Worker& worker) {
  return std::make_unique<FakeHandler>(*this, worker);
}

std::string FakeVendor::IssueGoogleToken() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string t = "ya29.fake-" + std::to_string(google_tokens_.size() + 1);
  google_tokens_.push_back(t);
  return t;
}

std::string FakeVendor::IssueEntraToken() {
  std::lock_guard<std::mutex> lock(mu_);
  std::string t = "eyJ0eXAiOiJKV1QifQ.fake-entra-" + std::to_string(entra_tokens_.size() + 1);
  entra_tokens_.push_back(t);
  return t;
}

bool FakeVendor::IsEntraToken(std::string_view token) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : entra_tokens_) {
    if (t == token) return true;
  }
  return false;
}

bool FakeVendor::IsGoogleToken(std::string_view token) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& t : google_tokens_) {
    if (t == token) return true;
  }
  return false;
}

void FakeVendor::Record(Recorded r) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_;
  if (recorded_.size() >= options_.max_recorded) recorded_.erase(recorded_.begin());
  recorded_.push_back(std::move(r));
}

std::string FakeVendor::RecordedJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  json::array arr;
  for (const auto& r : recorded_) {
    json::object headers;
    for (const auto& [k, v] : r.headers) {
      std::string lower = k;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[lower] = v;
    }
    arr.push_back(json::object{{"method", r.method},
                               {"path", r.path},
                               {"headers", std::move(headers)},
                               {"body", r.body}});
  }
  return json::serialize(json::object{{"requests", std::move(arr)}});
}

void FakeVendor::ClearRecorded() {
  std::lock_guard<std::mutex> lock(mu_);
  recorded_.clear();
}

void FakeVendor::CountStream(bool completed) {
  std::lock_guard<std::mutex> lock(mu_);
  (completed ? streams_completed_ : streams_aborted_)++;
}

std::string FakeVendor::StatsJson() const {
  std::lock_guard<std::mutex> lock(mu_);
  return json::serialize(json::object{{"requests", requests_},
                                      {"streams_completed", streams_completed_},
                                      {"streams_aborted", streams_aborted_}});
}

double FakeVendor::NextRandom() {
  std::lock_guard<std::mutex> lock(mu_);
  rng_state_ ^= rng_state_ << 13;
  rng_state_ ^= rng_state_ >> 7;
  rng_state_ ^= rng_state_ << 17;
  return static_cast<double>(rng_state_ >> 11) / static_cast<double>(1ull << 53);
}

}  // namespace baagate::fake_vendor
