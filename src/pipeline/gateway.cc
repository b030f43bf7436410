#include "pipeline/gateway.h"

#include <boost/beast/core/detail/base64.hpp>
#include <boost/json.hpp>

#include <optional>

#include "core/log.h"
#include "core/uuid.h"
#include "http/sse.h"
#include "http/upstream.h"
#include "phi/session.h"
#include "pipeline/audit_stage.h"
#include "pipeline/decide.h"
#include "policy/block.h"
#include "providers/anthropic/anthropic.h"
#include "providers/anthropic/translate.h"
#include "providers/bedrock/converse.h"
#include "providers/bedrock/event_stream.h"
#include "providers/bedrock/sigv4.h"
#include "providers/openai/openai.h"
#include "providers/vertex/gemini.h"
#include "providers/vertex/route.h"

namespace baagate::pipeline {

namespace {

using namespace baagate::http;
namespace oa = baagate::providers::openai;
namespace an = baagate::providers::anthropic;
namespace vx = baagate::providers::vertex;
namespace json = boost::json;
using core::LogLevel;
using core::LogLine;

constexpr std::size_t kMaxUpstreamErrorBody = 64 * 1024;
constexpr std::string_view kUserAgent = "baagate/0.1";

// Everything one request carries through the stages. Lives on the handler's coroutine frame.
struct RequestContext {
  Clock::time_point start = Clock::now();
  std::string request_id = core::NewUuidV7();
  std::shared_ptr<const Snapshot> snapshot;
  oa::Endpoint endpoint = oa::Endpoint::kUnknown;
  const Principal* principal = nullptr;
  const RouteRuntime* route = nullptr;
  oa::ParsedRequest parsed;  // model and stream are filled for every dialect
  std::string upstream_body;

  // Which API the client speaks and how its call maps onto the upstream's (providers/anthropic).
  enum class Dialect { kOpenAI, kAnthropic };
  enum class Mode {
    kOpenAIPassthrough,     // OpenAI client, OpenAI-dialect upstream (the original path)
    kAnthropicPassthrough,  // Anthropic client, Anthropic upstream
    kOpenAIToAnthropic,     // OpenAI client, Anthropic upstream (translated both ways)
    kAnthropicToOpenAI,     // Anthropic client, OpenAI-dialect upstream
    kBedrockInvoke,         // either client, Bedrock InvokeModel with an Anthropic-native body
    kBedrockConverse,       // OpenAI client, Bedrock Converse (providers/bedrock/converse.h)
    kVertexClaude,          // either client, Claude on Vertex rawPredict (Anthropic-native body)
    kVertexGemini,          // OpenAI client, Gemini generateContent (translated both ways)
  };
  Dialect dialect = Dialect::kOpenAI;
  Mode mode = Mode::kOpenAIPassthrough;
  an::Endpoint an_endpoint = an::Endpoint::kUnknown;
  an::ParsedRequest an_parsed;
  std::string anthropic_version;  // as the client sent it
  std::string anthropic_beta;     // as the client sent it; forwarded only if policy allows
  providers::CanonicalOutcome outcome;
  std::string upstream_model;
  bool decided = false;
  policy::Decision decision;
  // The de-identification session of an allow_deidentified call: its vault maps placeholders
  // back to the originals for this request only and is wiped when the request ends.
  std::unique_ptr<phi::Session> phi;
  std::string audit_event_id;  // the decision record's event_id once it is durable
  std::string path;            // the request path, for the audit record (validated there)
  policy::Surface surface = policy::Surface::kOpenAIChat;  // the body shape the policy read


  // Outcome, for the log line and metrics.
  unsigned status = 0;
  std::string error_code;  // gateway-defined codes only
  UpstreamFailure upstream_failure = UpstreamFailure::kNone;
  unsigned upstream_status = 0;
  oa::Usage usage;
  std::string model_served;  // the response's "model" (OpenAI-shaped responses; others: outcome.model)
  std::size_t bytes_out = 0;
  std::size_t events = 0;
  bool stream_completed = false;
  bool client_gone = false;
  Clock::time_point upstream_start{};
  Clock::time_point first_byte{};
  std::size_t bytes_in = 0;
  std::string finish_reason;        // the vendor's, for the audit record (validated there)
  std::string upstream_request_id;  // the vendor's x-request-id (validated there)

  UpstreamConnection* upstream = nullptr;  // while an exchange is in progress

  // Failover (routes sharing a model): may this attempt give way to a later route, did it,
  // and how many attempts gave way before the one that answered.
  bool may_failover = false;
  bool failed_over = false;
  std::chrono::milliseconds gave_way_retry_after{0};  // the vendor's Retry-After, if it gave one
  unsigned failovers = 0;
};

// Why a call cannot go to a route, answered to the client if no other route takes it.
struct PrepareError {
  unsigned status = 0;
  std::string code;
  std::string message;
  std::string param;
};

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

// The bearer token from "Authorization: Bearer <key>"; also accepts "api-key" like Azure SDKs.
std::string_view BearerToken(const Request& req) {
  auto auth = req[bhttp::field::authorization];
  if (auth.size() > 7 && beast::iequals(auth.substr(0, 7), "bearer ")) {
    auto token = auth.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    return token;
  }
  return {};
}

bool IsJsonContentType(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view mime = ct.substr(0, semi);
  while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
  return beast::iequals(mime, "application/json");
}

// Canonical usage (translated and Anthropic paths) -> the log line's and metrics' counters.
void UsageFromOutcome(RequestContext& ctx) {
  ctx.usage.prompt_tokens = ctx.outcome.usage.input_tokens;
  ctx.usage.completion_tokens = ctx.outcome.usage.output_tokens;
  ctx.usage.total_tokens = ctx.outcome.usage.total();
}

// Reads what follows a stream's terminal event (normally nothing) so the connection can be
// pooled; a failure just leaves it unpooled.
net::awaitable<void> DrainRest(UpstreamConnection& up,
                               bhttp::response_parser<bhttp::buffer_body>& parser,
                               Deadline& deadline, Millis idle) {
  std::string rest;
  while (!parser.is_done()) {
    rest.clear();
    if (co_await ReadBodySome(up, parser, deadline, idle, rest, 64 * 1024) !=
        UpstreamFailure::kNone) {
      break;
    }
  }
}

// The shape of the body a de-identified call sends upstream, for the de-identifier; none for
// modes without one (the call is then refused, fail closed).
std::optional<phi::Dialect> DeidDialect(const RequestContext& ctx) {
  using Mode = RequestContext::Mode;
  switch (ctx.mode) {
    case Mode::kOpenAIPassthrough:
      return ctx.endpoint == oa::Endpoint::kEmbeddings ? phi::Dialect::kOpenAiEmbeddings
                                                       : phi::Dialect::kOpenAiChat;
    case Mode::kAnthropicToOpenAI: return phi::Dialect::kOpenAiChat;
    case Mode::kAnthropicPassthrough:
    case Mode::kOpenAIToAnthropic:
    case Mode::kBedrockInvoke:
    case Mode::kVertexClaude: return phi::Dialect::kAnthropicMessages;
    case Mode::kBedrockConverse:  // no Converse- or Gemini-shaped de-identifier yet
    case Mode::kVertexGemini: return std::nullopt;
  }
  return std::nullopt;
}

// Re-identifies the events of a de-identified call's stream as they go to the client, in
// either dialect. Text held back because it could be the start of a placeholder is released
// as one more delta just before the event that closes it: Anthropic's content_block_stop,
// OpenAI's [DONE].
class ClientReidentifier {
 public:
  ClientReidentifier(const phi::Session& session, bool anthropic_client)
      : reid_(session), anthropic_client_(anthropic_client) {}

  void Emit(std::string_view data, std::string_view event, std::string& out) {
    if (anthropic_client_ && event == "content_block_stop") {
      std::int64_t index = 0;
      json::error_code ec;
      json::value v = json::parse(data, ec);
      if (!ec && v.is_object()) {
        if (const json::value* i = v.as_object().if_contains("index"); i && i->is_int64()) {
          index = i->as_int64();
        }
      }
      for (auto& [path, text] : reid_.Finish()) {
        json::object delta;
        if (path == ".delta.text") {
          delta = {{"type", "text_delta"}, {"text", text}};
        } else if (path == ".delta.partial_json") {
          delta = {{"type", "input_json_delta"}, {"partial_json", text}};
        } else if (path == ".delta.thinking") {
          delta = {{"type", "thinking_delta"}, {"thinking", text}};
        } else {
          continue;  // identifiers and types: never a placeholder's start
        }
        out += EncodeSseEvent(json::serialize(json::object{{"type", "content_block_delta"},
                                                           {"index", index},
                                                           {"delta", std::move(delta)}}),
                              "content_block_delta");
      }
    } else if (!anthropic_client_ && data == "[DONE]") {
      for (auto& [path, text] : reid_.Finish()) {
        // Text fields directly under the delta (content, refusal, reasoning_content); tool
        // arguments end in '}' and are never held back.
        constexpr std::string_view kDelta = ".choices[0].delta.";
        if (path.rfind(kDelta, 0) != 0) continue;
        const std::string field = path.substr(kDelta.size());
        if (field.find_first_of(".[") != std::string::npos) continue;
        out += EncodeSseEvent(json::serialize(json::object{
            {"object", "chat.completion.chunk"},
            {"choices", json::array{json::object{{"index", 0},
                                                 {"delta", json::object{{field, text}}},
                                                 {"finish_reason", nullptr}}}}}));
      }
      out += EncodeSseEvent(data, event);
      return;
    }
    out += EncodeSseEvent(reid_.Feed(data), event);
  }

 private:
  phi::JsonStreamReidentifier reid_;
  bool anthropic_client_;
};

}  // namespace

class GatewayHandler final : public Handler {
 public:
  GatewayHandler(Worker& worker, std::shared_ptr<const Snapshot> snapshot,
                 admin::Metrics& metrics, audit::AuditLog* audit,
                 std::shared_ptr<const phi::Detector> detector, RetryBudget& budget)
      : pool_(worker.executor()), snapshot_(std::move(snapshot)), metrics_(metrics),
        audit_(audit), detector_(std::move(detector)), budget_(budget) {}

  void SetSnapshot(std::shared_ptr<const Snapshot> s) { snapshot_ = std::move(s); }
  void SetDetector(std::shared_ptr<const phi::Detector> d) { detector_ = std::move(d); }

  net::awaitable<void> Handle(Request& req, Connection& conn) override {
    admin::InFlightGuard in_flight(metrics_);
    RequestContext ctx;
    ctx.snapshot = snapshot_;
    co_await Run(req, conn, ctx);
    Record(ctx);
    RecordOutcome(ctx);
  }

 private:
  net::awaitable<void> Run(Request& req, Connection& conn, RequestContext& ctx);
  net::awaitable<void> Forward(Connection& conn, RequestContext& ctx);
  // The Anthropic front door (POST /v1/messages, /v1/messages/count_tokens).
  net::awaitable<void> RunAnthropic(Request& req, Connection& conn, RequestContext& ctx);
  // Routes, translates to the upstream's dialect, decides and forwards (both front doors).
  net::awaitable<void> RouteAndForward(Connection& conn, RequestContext& ctx);
  // A model with several routes: the first the policy allows and whose circuit admits the call,
  // then the next on a connect error, 429 or 5xx that reached no byte to the client.
  net::awaitable<void> RouteWithFailover(Connection& conn, RequestContext& ctx,
                                         const RouteRuntime& head);
  // For ctx.route: chooses the mode, translates, decides and enforces, de-identifies, and
  // fills ctx.upstream_body unless the decision is a block. False (with `err`) when the call
  // cannot go to this route at all.
  bool Prepare(RequestContext& ctx, PrepareError* err);
  // Writes the decision record (durable before anything leaves); false after answering 503.
  net::awaitable<bool> AuditDecision(Connection& conn, RequestContext& ctx);
  // Answers a block, or forwards and relays with the client's disconnect watched.
  net::awaitable<void> SendOrForward(Connection& conn, RequestContext& ctx);
  // Forgets one attempt's state before the next route is tried.
  static void ResetAttempt(RequestContext& ctx);
  // Forward's failure paths: true when this failure hands the call to the next route (nothing
  // has been sent to the client); records it against the route's circuit either way.
  bool GiveWay(RequestContext& ctx, std::chrono::milliseconds retry_after);
  net::awaitable<void> RelayStreamTranslated(Connection& conn, RequestContext& ctx,
                                             UpstreamConnection& up,
                                             bhttp::response_parser<bhttp::buffer_body>& parser);
  // Bedrock InvokeModelWithResponseStream: event-stream frames carrying Anthropic events.
  net::awaitable<void> RelayEventStream(Connection& conn, RequestContext& ctx,
                                        UpstreamConnection& up,
                                        bhttp::response_parser<bhttp::buffer_body>& parser);
  net::awaitable<void> RelayStream(Connection& conn, RequestContext& ctx, UpstreamConnection& up,
                                   bhttp::response_parser<bhttp::buffer_body>& parser);
  net::awaitable<void> RelayJson(Connection& conn, RequestContext& ctx, UpstreamConnection& up,
                                 bhttp::response_parser<bhttp::buffer_body>& parser);
  net::awaitable<void> RelayUpstreamError(Connection& conn, RequestContext& ctx,
                                          UpstreamConnection& up,
                                          bhttp::response_parser<bhttp::buffer_body>& parser);
  net::awaitable<void> SendModels(Connection& conn, RequestContext& ctx, unsigned version);

  // Answers with an OpenAI-shaped error. `code` is one of the gateway's own codes.
  net::awaitable<void> SendError(Connection& conn, RequestContext& ctx, unsigned status,
                                 std::string_view code, std::string_view message,
                                 std::string_view param = {}, std::string_view type = {},
                                 std::string_view retry_after = {});
  net::awaitable<void> FailUpstream(Connection& conn, RequestContext& ctx, UpstreamFailure f);
  // A stream whose upstream read failed: records the failure, returns the gateway's code.
  std::string StreamReadFailure(RequestContext& ctx, UpstreamFailure f);
  // Ends a broken stream for the client: counts it, and appends an error event in the client's
  // dialect that withholds the vendor's text (it may quote the request).
  void AppendStreamFailure(RequestContext& ctx, const std::string& stream_error,
                           bool anthropic_client, std::string& out);
  net::awaitable<void> SendBlocked(Connection& conn, RequestContext& ctx);
  // Enforces (rewrites `body` in place) and evaluates the policy on the body in the upstream's
  // dialect, as it will leave.
  void Decide(RequestContext& ctx, const std::string& upstream_model, policy::Surface surface,
              json::object& body, std::string_view beta_headers);
  void Record(const RequestContext& ctx);
  void RecordOutcome(const RequestContext& ctx);

  UpstreamPool pool_;
  std::shared_ptr<const Snapshot> snapshot_;  // worker thread only
  admin::Metrics& metrics_;
  audit::AuditLog* audit_;  // null: audit disabled; else outlives the handler
  std::shared_ptr<const phi::Detector> detector_;  // null: no de-identified fallback; worker thread only
  RetryBudget& budget_;  // the gateway's, shared by all workers
};

namespace {

// choices[0].finish_reason, when the vendor set one.
void ReadFinishReason(const json::object& obj, std::string* out) {
  const json::value* choices = obj.if_contains("choices");
  if (!choices || !choices->is_array() || choices->as_array().empty()) return;
  const json::value& c0 = choices->as_array()[0];
  if (!c0.is_object()) return;
  const json::value* fr = c0.as_object().if_contains("finish_reason");
  if (fr && fr->is_string()) *out = std::string(fr->as_string());
}

// The response's "model": the model the vendor says served the call (audit model_served; kept
// only if it validates as an audit id). Bounded: a vendor value is never stored unchecked.
void ReadServedModel(const json::object& obj, std::string* out) {
  const json::value* m = obj.if_contains("model");
  if (m && m->is_string() && m->as_string().size() <= 128) *out = std::string(m->as_string());
}

}  // namespace

net::awaitable<void> GatewayHandler::SendError(Connection& conn, RequestContext& ctx,
                                               unsigned status, std::string_view code,
                                               std::string_view message, std::string_view param,
                                               std::string_view type,
                                               std::string_view retry_after) {
  ctx.status = status;
  ctx.error_code = std::string(code);
  Response res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-request-id", ctx.request_id);
  if (status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
  if (!retry_after.empty()) res.set(bhttp::field::retry_after, retry_after);
  if (ctx.dialect == RequestContext::Dialect::kAnthropic) {
    // Anthropic's shape has no code or param; the type is Anthropic's word for the status.
    res.set("request-id", ctx.request_id);
    std::string_view atype = an::KnownErrorType(type);
    res.body() = an::ErrorJson(atype.empty() ? an::ErrorTypeForStatus(status) : atype, message,
                               ctx.request_id);
  } else {
    res.body() = oa::ErrorJson(message, type.empty() ? oa::ErrorTypeForStatus(status) : type,
                               param, code);
  }
  ctx.bytes_out += res.body().size();
  co_await conn.Send(res);
}

net::awaitable<void> GatewayHandler::Run(Request& req, Connection& conn, RequestContext& ctx) {
  // classify
  ctx.path = std::string(PathOf(req.target()).substr(0, 256));
  ctx.endpoint = oa::ClassifyPath(ctx.path);
  if (ctx.endpoint == oa::Endpoint::kUnknown) {
    ctx.an_endpoint = an::ClassifyPath(PathOf(req.target()));
    if (ctx.an_endpoint != an::Endpoint::kUnknown) {
      ctx.dialect = RequestContext::Dialect::kAnthropic;
      co_await RunAnthropic(req, conn, ctx);
      co_return;
    }
    co_await SendError(conn, ctx, 404, "unknown_url",
                       "Unknown request URL. This gateway serves POST /v1/chat/completions, "
                       "POST /v1/embeddings and GET /v1/models.");
    co_return;
  }
  const bool wants_get = ctx.endpoint == oa::Endpoint::kModels;
  const bhttp::verb allowed = wants_get ? bhttp::verb::get : bhttp::verb::post;
  if (req.method() != allowed) {
    ctx.status = 405;
    ctx.error_code = "method_not_allowed";
    Response res{bhttp::status::method_not_allowed, 11};
    res.set(bhttp::field::allow, wants_get ? "GET" : "POST");
    res.set(bhttp::field::content_type, "application/json");
    res.set("x-request-id", ctx.request_id);
    res.body() = oa::ErrorJson(std::string("Method not allowed; use ") +
                                   (wants_get ? "GET." : "POST."),
                               "invalid_request_error", "", "method_not_allowed");
    co_await conn.Send(res);
    co_return;
  }

  // authenticate
  std::string_view token = BearerToken(req);
  if (token.empty()) {
    co_await SendError(conn, ctx, 401, "missing_api_key",
                       "No API key provided. Send your gateway key as 'Authorization: Bearer "
                       "<key>'.");
    co_return;
  }
  ctx.principal = ctx.snapshot->Authenticate(token);
  if (!ctx.principal) {
    co_await SendError(conn, ctx, 401, "invalid_api_key",
                       ctx.snapshot->has_keys()
                           ? "Incorrect API key provided. Use a gateway key issued for this "
                             "gateway, not a vendor key."
                           : "This gateway has no keys configured, so every request is refused. "
                             "Add keys to the configuration (see `baagate key generate`).");
    co_return;
  }

  if (ctx.endpoint == oa::Endpoint::kModels) {
    co_await SendModels(conn, ctx, req.version());
    co_return;
  }

  // parse
  if (!IsJsonContentType(req[bhttp::field::content_type])) {
    co_await SendError(conn, ctx, 415, "unsupported_media_type",
                       "Content-Type must be application/json.");
    co_return;
  }
  ctx.bytes_in = req.body().size();
  oa::RequestError perr;
  if (!oa::ParseRequest(ctx.endpoint, req.body(), &ctx.parsed, &perr)) {
    co_await SendError(conn, ctx, 400, "invalid_request", perr.message, perr.param);
    co_return;
  }

  co_await RouteAndForward(conn, ctx);
}

net::awaitable<void> GatewayHandler::RunAnthropic(Request& req, Connection& conn,
                                                  RequestContext& ctx) {
  if (req.method() != bhttp::verb::post) {
    co_await SendError(conn, ctx, 405, "method_not_allowed", "Method not allowed; use POST.");
    co_return;
  }
  // authenticate: Anthropic SDKs send the key as x-api-key; Bearer is accepted too.
  std::string_view token = req["x-api-key"];
  if (token.empty()) token = BearerToken(req);
  if (token.empty()) {
    co_await SendError(conn, ctx, 401, "missing_api_key",
                       "No API key provided. Send your gateway key as 'x-api-key: <key>'.");
    co_return;
  }
  ctx.principal = ctx.snapshot->Authenticate(token);
  if (!ctx.principal) {
    co_await SendError(conn, ctx, 401, "invalid_api_key",
                       "Incorrect API key provided. Use a gateway key issued for this gateway, "
                       "not a vendor key.");
    co_return;
  }
  ctx.anthropic_version = std::string(req["anthropic-version"]);
  if (ctx.anthropic_version.empty()) {
    co_await SendError(conn, ctx, 400, "invalid_request", "anthropic-version: header is required");
    co_return;
  }
  ctx.anthropic_beta = std::string(req["anthropic-beta"]);
  if (!IsJsonContentType(req[bhttp::field::content_type])) {
    co_await SendError(conn, ctx, 415, "unsupported_media_type",
                       "Content-Type must be application/json.");
    co_return;
  }
  an::RequestError perr;
  if (!an::ParseRequest(ctx.an_endpoint, req.body(), &ctx.an_parsed, &perr)) {
    co_await SendError(conn, ctx, 400, "invalid_request", perr.message);
    co_return;
  }
  ctx.parsed.model = ctx.an_parsed.model;
  ctx.parsed.stream = ctx.an_parsed.stream;
  co_await RouteAndForward(conn, ctx);
}

net::awaitable<void> GatewayHandler::RouteAndForward(Connection& conn, RequestContext& ctx) {
  // route
  const RouteRuntime* head = ctx.snapshot->FindRoute(ctx.parsed.model);
  if (!head) {
    co_await SendError(conn, ctx, 404, "model_not_found",
                       "The model requested is not configured on this gateway.", "model");
    co_return;
  }
  if (!ctx.snapshot->Allows(*ctx.principal, *head)) {
    co_await SendError(conn, ctx, 403, "model_not_allowed",
                       "This gateway key may not use the model requested.", "model");
    co_return;
  }
  if (head->group.size() > 1) {
    co_await RouteWithFailover(conn, ctx, *head);
    co_return;
  }
  ctx.route = head;
  PrepareError err;
  if (!Prepare(ctx, &err)) {
    co_await SendError(conn, ctx, err.status, err.code, err.message, err.param);
    co_return;
  }
  if (!co_await AuditDecision(conn, ctx)) co_return;
  co_await SendOrForward(conn, ctx);
}

net::awaitable<void> GatewayHandler::RouteWithFailover(Connection& conn, RequestContext& ctx,
                                                       const RouteRuntime& head) {
  const config::FailoverConfig& cfg = ctx.snapshot->config().failover;
  FailoverClock::time_point now = FailoverClock::now();
  budget_.OnRequest(now);
  // Each attempt enforces on (and may de-identify) its own copy of the client's body.
  const json::object openai_body = ctx.parsed.body;
  const json::object anthropic_body = ctx.an_parsed.body;
  const std::string anthropic_beta = ctx.anthropic_beta;
  auto restore = [&](const RouteRuntime* route) {
    ResetAttempt(ctx);
    ctx.parsed.body = openai_body;
    ctx.an_parsed.body = anthropic_body;
    ctx.anthropic_beta = anthropic_beta;
    ctx.route = route;
  };
  const auto& group = head.group;
  std::size_t first_refused = group.size();  // answered if no route takes the call
  FailoverClock::time_point reopen{};        // the earliest an open circuit admits a probe
  bool circuit_open = false;
  bool attempted = false;
  unsigned last_upstream_status = 0;  // of the last attempt that gave way
  std::chrono::milliseconds last_retry_after{0};
  for (std::size_t i = 0; i < group.size(); ++i) {
    const RouteRuntime* route = group[i];
    restore(route);
    PrepareError err;
    if (!Prepare(ctx, &err) || ctx.decision.decision == policy::DecisionKind::kBlock) {
      // Only routes the policy allows (and the gateway can reach) are candidates.
      if (first_refused == group.size()) first_refused = i;
      continue;
    }
    if (!route->health->Admit(now, cfg)) {
      circuit_open = true;
      FailoverClock::time_point t = route->health->open_until();
      if (reopen == FailoverClock::time_point{} || t < reopen) reopen = t;
      continue;
    }
    if (!co_await AuditDecision(conn, ctx)) co_return;
    attempted = true;
    ctx.may_failover = false;
    for (std::size_t j = i + 1; j < group.size() && !ctx.may_failover; ++j) {
      ctx.may_failover = group[j]->upstream->credential_problem.empty() &&
                         !group[j]->health->open(now);
    }
    co_await SendOrForward(conn, ctx);
    if (!ctx.failed_over) co_return;
    last_upstream_status = ctx.upstream_status;
    last_retry_after = ctx.gave_way_retry_after;
    // Nothing reached the client: this attempt gets its own outcome record, the next route
    // gets the call.
    metrics_.RecordUpstreamError(route->upstream->target.name, "failover");
    RecordOutcome(ctx);
    ++ctx.failovers;
    now = FailoverClock::now();
  }
  if (!attempted && !circuit_open && first_refused < group.size()) {
    // Every route refused the call: answer with the primary's reasons (its block is recorded).
    restore(group[first_refused]);
    PrepareError err;
    if (!Prepare(ctx, &err)) {
      co_await SendError(conn, ctx, err.status, err.code, err.message, err.param);
      co_return;
    }
    if (!co_await AuditDecision(conn, ctx)) co_return;
    co_await SendOrForward(conn, ctx);
    co_return;
  }
  ResetAttempt(ctx);
  ctx.route = &head;
  if (!attempted) {
    const auto wait = std::chrono::ceil<std::chrono::seconds>(reopen - now).count();
    const std::string retry_after = std::to_string(std::max<std::int64_t>(1, wait));
    co_await SendError(conn, ctx, 503, "upstream_unavailable",
                       "Every route for this model is temporarily out of rotation after upstream "
                       "failures; retry later.",
                       {}, "api_error", retry_after);
    co_return;
  }
  // The last attempt gave way but no later route took the call: answer what it got.
  ctx.upstream_status = last_upstream_status;
  if (last_upstream_status == 429) {
    const std::string retry_after =
        last_retry_after.count() > 0
            ? std::to_string(std::chrono::ceil<std::chrono::seconds>(last_retry_after).count())
            : std::string();
    co_await SendError(conn, ctx, 429, "rate_limit_exceeded",
                       "The upstream provider is rate limiting requests; retry later.", {},
                       "rate_limit_error", retry_after);
    co_return;
  }
  co_await SendError(conn, ctx, 502, "upstream_unavailable",
                     "Every route for this model failed; the gateway could not complete the "
                     "exchange with an upstream provider.");
}

bool GatewayHandler::GiveWay(RequestContext& ctx, std::chrono::milliseconds retry_after) {
  const FailoverClock::time_point now = FailoverClock::now();
  const config::FailoverConfig& cfg = ctx.snapshot->config().failover;
  ctx.route->health->OnFailure(now, retry_after, cfg);
  if (!ctx.may_failover || ctx.client_gone || !budget_.TryRetry(now, cfg)) return false;
  ctx.failed_over = true;
  ctx.gave_way_retry_after = retry_after;
  ctx.status = 502;  // this attempt's outcome record; nothing was sent to the client
  ctx.error_code = "upstream_failover";
  return true;
}

void GatewayHandler::ResetAttempt(RequestContext& ctx) {
  ctx.upstream_body.clear();
  ctx.outcome = {};
  ctx.upstream_model.clear();
  ctx.decided = false;
  ctx.decision = {};
  ctx.phi.reset();
  ctx.audit_event_id.clear();
  ctx.status = 0;
  ctx.error_code.clear();
  ctx.upstream_failure = UpstreamFailure::kNone;
  ctx.upstream_status = 0;
  ctx.usage = {};
  ctx.model_served.clear();
  ctx.bytes_out = 0;
  ctx.events = 0;
  ctx.stream_completed = false;
  ctx.upstream_start = {};
  ctx.first_byte = {};
  ctx.finish_reason.clear();
  ctx.upstream_request_id.clear();
  ctx.failed_over = false;
  ctx.may_failover = false;
  ctx.gave_way_retry_after = std::chrono::milliseconds(0);
}

bool GatewayHandler::Prepare(RequestContext& ctx, PrepareError* err) {
  if (!ctx.route->upstream->credential_problem.empty()) {
    *err = {502, "upstream_credential_missing",
            "The gateway has no credential for this model's upstream; an operator must "
            "configure it.", ""};
    return false;
  }
  const std::string& upstream_model =
      ctx.route->upstream_model.empty() ? ctx.parsed.model : ctx.route->upstream_model;

  // translate into the upstream's dialect, then decide and enforce on the body as it will leave
  const std::string& provider = ctx.route->upstream->provider;
  const bool anthropic_client = ctx.dialect == RequestContext::Dialect::kAnthropic;
  using Mode = RequestContext::Mode;
  if (provider == "openai" || provider == "azure_openai") {
    ctx.mode = anthropic_client ? Mode::kAnthropicToOpenAI : Mode::kOpenAIPassthrough;
  } else if (provider == "anthropic") {
    ctx.mode = anthropic_client ? Mode::kAnthropicPassthrough : Mode::kOpenAIToAnthropic;
  } else if (provider == "bedrock") {
    ctx.mode = providers::bedrock::BedrockUsesConverse(ctx.route->upstream->bedrock_api,
                                                       upstream_model)
                   ? Mode::kBedrockConverse
                   : Mode::kBedrockInvoke;
  } else if (provider == "vertex_anthropic") {
    ctx.mode = Mode::kVertexClaude;
  } else if (provider == "vertex_google") {
    ctx.mode = Mode::kVertexGemini;
  } else {
    *err = {502, "upstream_protocol_unsupported",
            "This model's upstream speaks a protocol this gateway build cannot forward to; an "
            "operator must change the route.", ""};
    return false;
  }
  json::object translated;
  an::TranslateError terr;
  bool translated_ok = true;
  ctx.upstream_model = upstream_model;
  switch (ctx.mode) {
    case Mode::kVertexGemini:
      translated_ok = vx::GeminiRequestFor(anthropic_client, ctx.endpoint == oa::Endpoint::kChatCompletions,
                                           ctx.parsed.body, &translated, &terr);
      if (translated_ok) {
        Decide(ctx, upstream_model, policy::Surface::kVertexGenerateContent, translated, "");
      }
      break;
    case Mode::kVertexClaude:
    case Mode::kBedrockInvoke:
      // InvokeModel and rawPredict take the Anthropic Messages body: OpenAI clients are
      // translated first.
      if (anthropic_client) {
        translated_ok = ctx.an_endpoint == an::Endpoint::kMessages;
        terr.message = "count_tokens is not available on Bedrock or Vertex routes.";
        if (translated_ok) translated = ctx.an_parsed.body;
      } else if (ctx.endpoint != oa::Endpoint::kChatCompletions) {
        translated_ok = false;
        terr.message = "This endpoint cannot be served by a Bedrock or Vertex route.";
      } else {
        translated_ok =
            an::ChatRequestToMessages(ctx.parsed.body, upstream_model, &translated, &terr);
      }
      if (translated_ok) {
        Decide(ctx, upstream_model, policy::Surface::kAnthropicMessages, translated,
               anthropic_client ? std::string_view(ctx.anthropic_beta) : std::string_view());
      }
      break;
    case Mode::kBedrockConverse:
      if (anthropic_client || ctx.endpoint != oa::Endpoint::kChatCompletions) {
        translated_ok = false;
        terr.message = anthropic_client
                           ? "This model's Bedrock route uses the Converse API, which serves "
                             "OpenAI chat clients only; use an OpenAI client or a route with "
                             "bedrock_api: invoke."
                           : "This endpoint cannot be served by a Bedrock route.";
        break;
      }
      translated_ok = providers::bedrock::ChatRequestToConverse(ctx.parsed.body, &translated,
                                                                &terr);
      if (translated_ok) {
        Decide(ctx, upstream_model, policy::Surface::kBedrockConverse, translated, "");
      }
      break;
    case Mode::kOpenAIPassthrough:
      Decide(ctx, upstream_model,
             ctx.endpoint == oa::Endpoint::kEmbeddings ? policy::Surface::kOpenAIEmbeddings
                                                       : policy::Surface::kOpenAIChat,
             ctx.parsed.body, "");
      break;
    case Mode::kAnthropicPassthrough:
      ctx.an_parsed.body["model"] = upstream_model;
      Decide(ctx, upstream_model,
             ctx.an_endpoint == an::Endpoint::kCountTokens ? policy::Surface::kAnthropicCountTokens
                                                           : policy::Surface::kAnthropicMessages,
             ctx.an_parsed.body, ctx.anthropic_beta);
      break;
    case Mode::kOpenAIToAnthropic:
      if (ctx.endpoint != oa::Endpoint::kChatCompletions) {
        translated_ok = false;
        terr.message = "This endpoint cannot be served by an Anthropic route.";
        break;
      }
      translated_ok = an::ChatRequestToMessages(ctx.parsed.body, upstream_model, &translated, &terr);
      if (translated_ok) {
        Decide(ctx, upstream_model, policy::Surface::kAnthropicMessages, translated, "");
      }
      break;
    case Mode::kAnthropicToOpenAI:
      if (ctx.an_endpoint != an::Endpoint::kMessages) {
        translated_ok = false;
        terr.message = "count_tokens is only available on Anthropic routes.";
        break;
      }
      translated_ok = an::MessagesRequestToChat(ctx.an_parsed.body, upstream_model, &translated,
                                                &terr);
      if (translated_ok) Decide(ctx, upstream_model, policy::Surface::kOpenAIChat, translated, "");
      break;
  }
  if (!translated_ok) {
    *err = {400, "untranslatable_request", terr.message, terr.param};
    return false;
  }
  const bool deidentify = ctx.decision.decision == policy::DecisionKind::kAllowDeidentified;
  const std::optional<phi::Dialect> deid_dialect = DeidDialect(ctx);
  if (deidentify && (!detector_ || !deid_dialect)) {
    // No de-identifier could be loaded, or the upstream's body shape has no de-identifier:
    // fail closed rather than send PHI.
    ctx.decision.decision = policy::DecisionKind::kBlock;
    ctx.decision.reasons.push_back("DEID_UNAVAILABLE");
  }
  const bool blocked = ctx.decision.decision == policy::DecisionKind::kBlock;
  if (!blocked) switch (ctx.mode) {
    case Mode::kOpenAIPassthrough:
      ctx.upstream_body = oa::EncodeUpstreamBody(ctx.parsed, upstream_model);
      break;
    case Mode::kAnthropicPassthrough:
      ctx.upstream_body = json::serialize(ctx.an_parsed.body);
      break;
    case Mode::kOpenAIToAnthropic:
    case Mode::kAnthropicToOpenAI:
    case Mode::kBedrockConverse:
    case Mode::kVertexGemini:
      ctx.upstream_body = json::serialize(translated);
      break;
    case Mode::kVertexClaude:
      ctx.upstream_body = vx::ClaudeRawPredictBody(std::move(translated), ctx.parsed.stream);
      break;
    case Mode::kBedrockInvoke: {
      // PROVIDERS.md §5.4: no model or stream in the body (they are in the path), the Bedrock
      // anthropic_version, and beta flags as a body array.
      translated.erase("model");
      translated.erase("stream");
      translated["anthropic_version"] = "bedrock-2023-05-31";
      if (!ctx.anthropic_beta.empty()) {
        json::array betas;
        std::string_view rest = ctx.anthropic_beta;
        while (!rest.empty()) {
          std::size_t comma = rest.find(',');
          std::string_view name = rest.substr(0, comma);
          while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
          while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
          if (!name.empty()) betas.push_back(json::string(name));
          rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        }
        translated["anthropic_beta"] = std::move(betas);
      }
      ctx.upstream_body = json::serialize(translated);
      break;
    }
  }
  if (deidentify && !blocked) {
    // Safe Harbor: every string the vendor would read gets typed placeholders, in the body as
    // it leaves (after translation); the answer is re-identified on the way back in the
    // client's dialect (RelayJson, the stream relays). Before the audit record, so the record
    // carries the per-class finding counts.
    ctx.phi = std::make_unique<phi::Session>(detector_, phi::TransformMode::kPlaceholder);
    auto deid = ctx.phi->DeidentifyJsonBody(*deid_dialect, ctx.upstream_body);
    if (deid.ok()) {
      ctx.upstream_body = std::move(*deid);
      ctx.decision.enforcement_actions.push_back("deidentify_safe_harbor");
    } else {
      ctx.decision.decision = policy::DecisionKind::kBlock;
      ctx.decision.reasons.push_back("DEID_UNAVAILABLE");
      ctx.phi.reset();
    }
  }
  return true;
}

net::awaitable<bool> GatewayHandler::AuditDecision(Connection& conn, RequestContext& ctx) {
  // audit: the decision record is durable before anything is forwarded (or refused), and a
  // gateway that cannot write it refuses the call (fail closed)
  if (audit_) {
    DecisionFacts facts;
    facts.request_id = ctx.request_id;
    facts.principal = ctx.principal;
    facts.client_address = conn.remote_address();  // only its /24 or /48 is recorded
    facts.actor_key = audit::AsView(audit_->actor_key());
    facts.route = ctx.route;
    facts.endpoint_path = ctx.path;
    const std::string api_surface = policy::UpstreamSurface(ctx.route->upstream->provider, ctx.surface);
    facts.api_surface = api_surface;
    std::vector<std::pair<std::string, std::uint64_t>> findings;
    if (ctx.phi) {
      const phi::FindingCounts& counts = ctx.phi->finding_counts();
      for (std::size_t i = 0; i < counts.size(); ++i) {
        if (counts[i]) findings.emplace_back(phi::ClassName(static_cast<phi::PhiClass>(i)), counts[i]);
      }
      facts.deidentified = true;
      facts.phi_findings = &findings;
    }
    facts.model_requested = ctx.parsed.model;
    facts.stream = ctx.parsed.stream;
    facts.decision = &ctx.decision;
    auto [audit_status, appended] = co_await AppendDecision(*audit_, MakeDecisionRecord(facts));
    if (!audit_status.ok()) {
      metrics_.RecordUpstreamError(ctx.route->upstream->target.name, "audit_unavailable");
      co_await SendError(conn, ctx, 503, "audit_unavailable",
                         "The gateway could not record this request in its audit log, so it was "
                         "not sent. Retry later; an operator must check the audit store.",
                         {}, "api_error", "5");
      co_return false;
    }
    ctx.audit_event_id = std::move(appended.event_id);
  }
  co_return true;
}

net::awaitable<void> GatewayHandler::SendOrForward(Connection& conn, RequestContext& ctx) {
  if (ctx.decision.decision == policy::DecisionKind::kBlock) {
    co_await SendBlocked(conn, ctx);
    co_return;
  }

  // forward and relay; a client that goes away cancels the upstream exchange: closing the
  // upstream connection makes whatever Forward awaits on it fail at once
  conn.ArmDisconnectWatch([&ctx] {
    ctx.client_gone = true;
    if (ctx.upstream) ctx.upstream->stream().Close();
  });
  co_await Forward(conn, ctx);
  conn.DisarmDisconnectWatch();
  if (ctx.client_gone && ctx.status == 0) ctx.status = 499;
}

void GatewayHandler::Decide(RequestContext& ctx, const std::string& upstream_model,
                            policy::Surface surface, json::object& body,
                            std::string_view beta_headers) {
  DecideInput in;
  in.route = ctx.route;
  in.app = ctx.principal->app;
  in.surface = surface;
  ctx.surface = surface;
  in.upstream_model = upstream_model;
  in.beta_headers = beta_headers;
  in.now = NowSeconds();
  DecideOutput out;
  DecideAndEnforce(*ctx.snapshot, in, body, &out);
  ctx.decision = std::move(out.decision);
  ctx.decided = true;
  metrics_.RecordDecision(policy::DecisionName(ctx.decision.decision));
}

net::awaitable<void> GatewayHandler::SendBlocked(Connection& conn, RequestContext& ctx) {
  ctx.status = 403;
  ctx.error_code = "baa_scope_violation";
  Response res{bhttp::status::forbidden, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-request-id", ctx.request_id);
  const bool anthropic_client = ctx.dialect == RequestContext::Dialect::kAnthropic;
  if (anthropic_client) res.set("request-id", ctx.request_id);
  res.body() = policy::BlockBody(anthropic_client ? policy::Dialect::kAnthropic
                                                  : policy::Dialect::kOpenAI,
                                 ctx.decision, ctx.request_id);
  ctx.bytes_out += res.body().size();
  co_await conn.Send(res);
}

std::string GatewayHandler::StreamReadFailure(RequestContext& ctx, UpstreamFailure f) {
  ctx.upstream_failure = f;
  metrics_.RecordUpstreamError(ctx.route->upstream->target.name, UpstreamFailureName(f));
  return UpstreamFailureHttpStatus(f) == 504 ? "upstream_timeout" : "upstream_stream_broken";
}

void GatewayHandler::AppendStreamFailure(RequestContext& ctx, const std::string& stream_error,
                                         bool anthropic_client, std::string& out) {
  if (ctx.upstream_failure == UpstreamFailure::kNone) {
    metrics_.RecordUpstreamError(ctx.route->upstream->target.name, stream_error);
  }
  ctx.error_code = stream_error;
  constexpr std::string_view kMessage =
      "The upstream provider's stream failed; the response is incomplete. The provider's "
      "own message is withheld because it may quote the request.";
  if (anthropic_client) {
    out += EncodeSseEvent(an::ErrorJson("api_error", kMessage), "error");
  } else {
    out += EncodeSseEvent(oa::ErrorJson(kMessage, "upstream_error", "", stream_error));
  }
}

net::awaitable<void> GatewayHandler::FailUpstream(Connection& conn, RequestContext& ctx,
                                                  UpstreamFailure f) {
  ctx.upstream_failure = f;
  metrics_.RecordUpstreamError(ctx.route->upstream->target.name, UpstreamFailureName(f));
  unsigned status = UpstreamFailureHttpStatus(f);
  if (status == 504) {
    co_await SendError(conn, ctx, 504, "upstream_timeout",
                       "The upstream provider did not answer in time.");
  } else {
    co_await SendError(conn, ctx, 502, "upstream_unavailable",
                       "The gateway could not complete the exchange with the upstream provider.");
  }
}

net::awaitable<void> GatewayHandler::Forward(Connection& conn, RequestContext& ctx) {
  const UpstreamRuntime& up = *ctx.route->upstream;
  const UpstreamTarget& target = up.target;
  Deadline& deadline = conn.deadline();
  ctx.upstream_start = Clock::now();

  UpstreamFailure failure = UpstreamFailure::kNone;
  std::unique_ptr<UpstreamConnection> uc = co_await pool_.Acquire(target, deadline, &failure);
  if (ctx.client_gone) co_return;
  if (!uc) {
    // Nothing reached the vendor: safe to hand to the next route.
    if (GiveWay(ctx, std::chrono::milliseconds(0))) {
      ctx.upstream_failure = failure;
      metrics_.RecordUpstreamError(target.name, UpstreamFailureName(failure));
      co_return;
    }
    co_await FailUpstream(conn, ctx, failure);
    co_return;
  }
  ctx.upstream = uc.get();
  struct ClearUpstream {
    RequestContext& c;
    ~ClearUpstream() { c.upstream = nullptr; }
  } clear{ctx};

  using Mode = RequestContext::Mode;
  std::string upstream_path = target.url.path;
  switch (ctx.mode) {
    case Mode::kOpenAIPassthrough: upstream_path += oa::EndpointUpstreamPath(ctx.endpoint); break;
    case Mode::kAnthropicToOpenAI: upstream_path += "/chat/completions"; break;
    case Mode::kAnthropicPassthrough:
      // An Anthropic base_url ends in /v1, like OpenAI's.
      upstream_path += ctx.an_endpoint == an::Endpoint::kCountTokens ? "/messages/count_tokens"
                                                                     : "/messages";
      break;
    case Mode::kOpenAIToAnthropic: upstream_path += "/messages"; break;
    case Mode::kBedrockInvoke:
    case Mode::kBedrockConverse:
      upstream_path += providers::bedrock::BedrockRuntimePath(
          ctx.upstream_model, ctx.mode == Mode::kBedrockConverse, ctx.parsed.stream);
      break;
    case Mode::kVertexClaude:
    case Mode::kVertexGemini:
      upstream_path += vx::ModelPath(up.project, up.region, ctx.mode == Mode::kVertexClaude,
                                     ctx.upstream_model, ctx.parsed.stream);
      break;
  }
  if (up.provider == "azure_openai" &&
      (ctx.mode == Mode::kOpenAIPassthrough || ctx.mode == Mode::kAnthropicToOpenAI)) {
    // Deployment URLs (PROVIDERS.md §4.1): the deployment in the path selects the model, and
    // api-version is required. A base_url ending in /openai/v1 is the v1 API: OpenAI paths.
    const std::string& base = target.url.path;
    if (base.size() < 10 || base.compare(base.size() - 10, 10, "/openai/v1") != 0) {
      std::string_view op = ctx.mode == Mode::kOpenAIPassthrough
                                ? oa::EndpointUpstreamPath(ctx.endpoint)
                                : std::string_view("/chat/completions");
      upstream_path = base + "/openai/deployments/" +
                      providers::bedrock::UriEncode(ctx.upstream_model, false) + std::string(op) +
                      "?api-version=" + providers::bedrock::UriEncode(up.api_version, false);
    }
  }
  // OAuth upstreams (Vertex, Entra): the token is awaited before the request is written; a
  // failed fetch sends nothing to the vendor: the next route takes the call, else a 502.
  core::SecretString bearer;
  if (up.token_source) {
    auto token = co_await up.token_source->Token(
        [this, &deadline](const providers::auth::TokenEndpoint& ep, std::string body) {
          return providers::auth::PostForm(pool_, ep, deadline, std::move(body));
        });
    if (ctx.client_gone) co_return;
    if (!token.ok()) {
      metrics_.RecordUpstreamError(target.name, "token_fetch_failed");
      LogLine(LogLevel::kWarn, "upstream_token_failed")
          .Str("request_id", ctx.request_id)
          .Str("upstream", target.name)
          .Str("error", token.status().message())  // fixed words: never the endpoint's body
          .Emit();
      if (GiveWay(ctx, std::chrono::milliseconds(0))) co_return;  // nothing reached the vendor
      co_await SendError(conn, ctx, 502, "upstream_auth_failed",
                         "The gateway could not obtain an access token for this model's "
                         "upstream; an operator must check its credential.");
      co_return;
    }
    bearer = core::SecretString("Bearer " + token->Expose());
  }
  Request ureq{bhttp::verb::post, upstream_path, 11};
  ureq.set(bhttp::field::host, target.host_header);
  if (!bearer.empty()) {
    ureq.set(bhttp::field::authorization, bearer.Expose());
  } else if (!up.authorization.empty()) {
    ureq.set(up.auth_header, up.authorization.Expose());
  }
  if (ctx.mode == Mode::kVertexClaude && !ctx.anthropic_beta.empty()) {
    ureq.set("anthropic-beta", ctx.anthropic_beta);  // allowed by the policy (beta_header:<name>)
  }
  if (ctx.mode == Mode::kAnthropicPassthrough || ctx.mode == Mode::kOpenAIToAnthropic) {
    ureq.set("anthropic-version", ctx.anthropic_version.empty() ? std::string(an::kApiVersion)
                                                                : ctx.anthropic_version);
    // Beta names are features the policy has just allowed (beta_header:<name>).
    if (!ctx.anthropic_beta.empty()) ureq.set("anthropic-beta", ctx.anthropic_beta);
  }
  ureq.set(bhttp::field::content_type, "application/json");
  ureq.set(bhttp::field::accept, ctx.parsed.stream ? "text/event-stream" : "application/json");
  ureq.set(bhttp::field::user_agent, kUserAgent);
  ureq.set("x-request-id", ctx.request_id);
  ureq.keep_alive(true);
  ureq.body() = std::move(ctx.upstream_body);
  ureq.prepare_payload();
  if (ctx.mode == Mode::kBedrockInvoke || ctx.mode == Mode::kBedrockConverse) {
    ureq.set(bhttp::field::accept, ctx.parsed.stream ? "application/vnd.amazon.eventstream"
                                                     : "application/json");
    if (!up.aws) {
      co_await SendError(conn, ctx, 502, "upstream_credential_missing",
                         "The gateway has no AWS credential for this route.");
      co_return;
    }
    // Sign what is sent: host, content-type and accept, plus the x-amz-* headers SignRequest adds.
    providers::bedrock::SigV4Request sreq{
        "POST", upstream_path, "",
        {{"host", target.host_header},
         {"content-type", "application/json"},
         {"accept", std::string(ureq[bhttp::field::accept])}},
        ureq.body()};
    auto added = providers::bedrock::SignRequest(
        sreq, *up.aws, up.region, "bedrock",
        providers::bedrock::FormatAmzDate(std::chrono::system_clock::now()));
    if (!added.ok()) {
      co_await SendError(conn, ctx, 500, "signing_failed", "The gateway could not sign the request.");
      co_return;
    }
    for (const auto& [name, value] : *added) ureq.set(name, value);
  }

  // The first-byte deadline covers writing the request and waiting for the response head.
  deadline.Arm(target.first_byte_timeout, [c = uc.get()] { c->stream().Close(); });
  bhttp::request_serializer<bhttp::string_body> sr(ureq);
  auto [wec, wn] = co_await NowOrLater(
      uc->stream(), [&](tcp::socket& s, error_code& e) { return bhttp::write(s, sr, e); },
      [&](auto& s) { return bhttp::async_write(s, sr, kTok); });
  if (wec) {
    bool fired = deadline.fired();
    deadline.Disarm();
    if (ctx.client_gone) co_return;
    co_await FailUpstream(conn, ctx, fired ? UpstreamFailure::kFirstByteTimeout
                                           : UpstreamFailure::kWrite);
    co_return;
  }
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.body_limit(boost::none);
  auto [hec, hn] = co_await uc->stream().With(
      [&](auto& s) { return bhttp::async_read_header(s, uc->buffer(), parser, kTok); });
  bool fired = deadline.fired();
  deadline.Disarm();
  if (ctx.client_gone) co_return;
  if (hec) {
    // The vendor may be working on the call: recorded against the route, never retried.
    ctx.route->health->OnFailure(FailoverClock::now(), std::chrono::milliseconds(0),
                                ctx.snapshot->config().failover);
    co_await FailUpstream(conn, ctx,
                          fired ? UpstreamFailure::kFirstByteTimeout : UpstreamFailure::kRead);
    co_return;
  }
  ctx.first_byte = Clock::now();
  ctx.upstream_status = parser.get().result_int();
  ctx.upstream_request_id = std::string(parser.get()["x-request-id"].substr(0, 128));
  if (ctx.upstream_request_id.empty()) {  // Bedrock's
    ctx.upstream_request_id = std::string(parser.get()["x-amzn-requestid"].substr(0, 128));
  }
  if (ctx.upstream_status == 429 || ctx.upstream_status >= 500) {
    // Rate limited or failing: the error body is not read, so the connection is not pooled.
    if (GiveWay(ctx, ParseRetryAfter(parser.get()[bhttp::field::retry_after]))) {
      metrics_.RecordUpstreamError(target.name, "http_" + std::to_string(ctx.upstream_status));
      co_return;
    }
  } else {
    ctx.route->health->OnSuccess();
  }

  if (ctx.upstream_status != 200) {
    co_await RelayUpstreamError(conn, ctx, *uc, parser);
  } else if (ctx.parsed.stream && ctx.mode == Mode::kOpenAIPassthrough) {
    co_await RelayStream(conn, ctx, *uc, parser);
  } else if (ctx.parsed.stream && ctx.mode == Mode::kVertexGemini) {
    co_await RelayStreamTranslated(conn, ctx, *uc, parser);
  } else if (ctx.parsed.stream &&
             (ctx.mode == Mode::kBedrockInvoke || ctx.mode == Mode::kBedrockConverse)) {
    co_await RelayEventStream(conn, ctx, *uc, parser);
  } else if (ctx.parsed.stream) {
    co_await RelayStreamTranslated(conn, ctx, *uc, parser);
  } else {
    co_await RelayJson(conn, ctx, *uc, parser);
  }
  if (!ctx.client_gone && parser.is_done() && parser.keep_alive() &&
      uc->stream().socket().is_open()) {
    pool_.Release(target, std::move(uc));
  }
}

net::awaitable<void> GatewayHandler::RelayUpstreamError(
    Connection& conn, RequestContext& ctx, UpstreamConnection& up,
    bhttp::response_parser<bhttp::buffer_body>& parser) {
  std::string body;
  UpstreamFailure f = UpstreamFailure::kNone;
  while (!parser.is_done() && f == UpstreamFailure::kNone && body.size() < kMaxUpstreamErrorBody) {
    f = co_await ReadBodySome(up, parser, conn.deadline(), ctx.route->upstream->target.idle_timeout,
                              body, kMaxUpstreamErrorBody - body.size());
  }
  if (ctx.client_gone) co_return;
  // The vendor's message may quote the prompt: only identifier-shaped fields pass.
  oa::SafeErrorFields safe = oa::ExtractSafeErrorFields(body);
  body.clear();
  if (safe.code == "content_filter") {  // Azure's blocked prompt (400, ResponsibleAIPolicyViolation)
    ctx.outcome.content_filter = true;
    ctx.outcome.finish = providers::FinishReason::kContentFilter;
  }
  const unsigned s = ctx.upstream_status;
  const std::string& upstream_name = ctx.route->upstream->target.name;
  metrics_.RecordUpstreamError(upstream_name, "http_" + std::to_string(s));
  // Arguments are computed before co_await: GCC 12 miscompiles std::string temporaries made by
  // a conditional expression inside a co_await's operands (double destruction).
  std::string retry_after;
  unsigned status = 502;
  std::string code = "upstream_error";
  std::string message = "The upstream provider failed (HTTP " + std::to_string(s) + ").";
  std::string param;
  std::string type;
  if (s == 429) {
    auto ra = parser.get()[bhttp::field::retry_after];
    if (!ra.empty() && ra.size() <= 6 && ra.find_first_not_of("0123456789") == std::string_view::npos) {
      retry_after = std::string(ra);
    }
    status = 429;
    code = safe.code.empty() ? std::string("rate_limit_exceeded") : safe.code;
    message = "The upstream provider is rate limiting requests; retry later.";
    param = safe.param;
    type = "rate_limit_error";
  } else if (s == 400 || s == 404 || s == 409 || s == 413 || s == 422) {
    status = s;
    code = safe.code.empty() ? std::string("upstream_rejected_request") : safe.code;
    message = "The upstream provider rejected the request (HTTP " + std::to_string(s) +
              "). Its message is withheld because it may quote the request.";
    param = safe.param;
    type = safe.type.empty() ? std::string("invalid_request_error") : safe.type;
  } else if (s == 401 || s == 403) {
    code = "upstream_auth_failed";
    message = "The upstream provider refused the gateway's credential; an operator must fix it.";
  }
  co_await SendError(conn, ctx, status, code, message, param, type, retry_after);
  // Unread error bodies leave the connection unusable; Forward only pools complete messages.
}

net::awaitable<void> GatewayHandler::RelayJson(Connection& conn, RequestContext& ctx,
                                               UpstreamConnection& up,
                                               bhttp::response_parser<bhttp::buffer_body>& parser) {
  const UpstreamRuntime& rt = *ctx.route->upstream;
  std::string body;
  UpstreamFailure f = UpstreamFailure::kNone;
  while (!parser.is_done() && f == UpstreamFailure::kNone) {
    if (body.size() >= rt.max_response_bytes) {
      f = UpstreamFailure::kTooLarge;
      break;
    }
    f = co_await ReadBodySome(up, parser, conn.deadline(), rt.target.idle_timeout, body,
                              rt.max_response_bytes - body.size());
  }
  if (ctx.client_gone) co_return;
  if (f != UpstreamFailure::kNone) {
    co_await FailUpstream(conn, ctx, f);
    co_return;
  }
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    co_await FailUpstream(conn, ctx, UpstreamFailure::kProtocol);
    co_return;
  }
  using Mode = RequestContext::Mode;
  core::Result<std::string> client_body = std::string();
  switch (ctx.mode) {
    case Mode::kOpenAIPassthrough:
      oa::ReadUsage(v.as_object(), &ctx.usage);
      ReadFinishReason(v.as_object(), &ctx.finish_reason);
      ReadServedModel(v.as_object(), &ctx.model_served);
      // finish_reason "content_filter" (OpenAI, Azure) is the audit's content_filter_triggered.
      if (const json::value* ch = v.as_object().if_contains("choices");
          ch && ch->is_array() && !ch->as_array().empty() && ch->as_array()[0].is_object()) {
        if (const json::value* fr = ch->as_array()[0].as_object().if_contains("finish_reason");
            fr && fr->is_string()) {
          ctx.outcome.finish = providers::FromOpenAiFinishReason(fr->as_string());
          ctx.outcome.content_filter =
              ctx.outcome.finish == providers::FinishReason::kContentFilter;
        }
      }
      client_body = std::move(body);
      break;
    case Mode::kAnthropicPassthrough:
      an::ReadMessageOutcome(v.as_object(), &ctx.outcome);
      client_body = std::move(body);
      break;
    case Mode::kOpenAIToAnthropic:
      client_body = an::MessageToChatCompletion(
          body, ctx.parsed.model,
          NowSeconds(),
          &ctx.outcome);
      break;
    case Mode::kAnthropicToOpenAI:
      client_body = an::ChatCompletionToMessage(body, ctx.parsed.model, &ctx.outcome);
      break;
    case Mode::kVertexGemini:
      client_body = vx::GenerateContentToChatCompletion(body, ctx.parsed.model, NowSeconds(),
                                                        &ctx.outcome);
      break;
    case Mode::kVertexClaude:
    case Mode::kBedrockInvoke:
      if (ctx.dialect == RequestContext::Dialect::kAnthropic) {
        an::ReadMessageOutcome(v.as_object(), &ctx.outcome);
        client_body = std::move(body);
      } else {
        client_body = an::MessageToChatCompletion(
            body, ctx.parsed.model,
            NowSeconds(),
            &ctx.outcome);
      }
      break;
    case Mode::kBedrockConverse:
      client_body = providers::bedrock::ConverseToChatCompletion(
          body, ctx.parsed.model, ctx.request_id, NowSeconds(), &ctx.outcome);
      break;
  }
  // A de-identified call: placeholders back to the originals, in the client's dialect.
  if (ctx.phi && client_body.ok()) client_body = ctx.phi->ReidentifyJsonBody(*client_body);
  if (!client_body.ok()) {
    co_await FailUpstream(conn, ctx, UpstreamFailure::kProtocol);
    co_return;
  }
  if (ctx.mode != Mode::kOpenAIPassthrough) UsageFromOutcome(ctx);
  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-request-id", ctx.request_id);
  if (ctx.dialect == RequestContext::Dialect::kAnthropic) res.set("request-id", ctx.request_id);
  res.body() = std::move(client_body).value();
  ctx.status = 200;
  ctx.bytes_out += res.body().size();
  co_await conn.Send(res);
}

net::awaitable<void> GatewayHandler::RelayStream(
    Connection& conn, RequestContext& ctx, UpstreamConnection& up,
    bhttp::response_parser<bhttp::buffer_body>& parser) {
  const UpstreamRuntime& rt = *ctx.route->upstream;
  auto ct = parser.get()[bhttp::field::content_type];
  if (ct.substr(0, 17) != "text/event-stream") {
    co_await FailUpstream(conn, ctx, UpstreamFailure::kProtocol);
    co_return;
  }
  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
  head.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
  head.set(bhttp::field::cache_control, "no-cache");
  head.set("x-request-id", ctx.request_id);
  ctx.status = 200;
  if (co_await conn.StartStream(head)) {
    ctx.client_gone = true;
    co_return;
  }

  SseParser sse;
  std::string in;
  std::string out;
  // Re-identification of a de-identified call: placeholders split across events are restored.
  std::optional<ClientReidentifier> reid;
  if (ctx.phi) reid.emplace(*ctx.phi, false);
  bool done = false;        // [DONE] seen
  std::string stream_error;  // gateway error code once the stream has failed
  for (;;) {
    in.clear();
    UpstreamFailure f = co_await ReadBodySome(up, parser, conn.deadline(), rt.target.idle_timeout,
                                              in, 64 * 1024);
    if (ctx.client_gone) co_return;
    out.clear();
    if (!in.empty() && !done) {
      core::Status st = sse.Feed(in, [&](const SseEvent& ev) {
        if (done || !stream_error.empty()) return;
        if (!ev.has_data) {
          out.append(ev.raw);  // comments / keep-alives
          return;
        }
        if (ev.data == "[DONE]") {
          done = true;
          if (reid) {
            reid->Emit(ev.data, ev.event, out);
          } else {
            out.append(ev.raw);
          }
          return;
        }
        json::error_code ec;
        json::value v = json::parse(ev.data, ec);
        if (ec || !v.is_object()) {
          stream_error = "upstream_malformed_stream";
          return;
        }
        const json::object& obj = v.as_object();
        if (const json::value* err = obj.if_contains("error")) {
          (void)err;
          stream_error = "upstream_stream_error";
          return;
        }
        ++ctx.events;
        ReadFinishReason(obj, &ctx.finish_reason);
        if (ctx.model_served.empty()) ReadServedModel(obj, &ctx.model_served);
        bool usage_only = false;
        if (oa::ReadUsage(obj, &ctx.usage)) {
          const json::value* choices = obj.if_contains("choices");
          usage_only = choices && choices->is_array() && choices->as_array().empty();
        }
        if (usage_only && !ctx.parsed.client_wants_usage) return;  // we asked for it, not them
        if (reid) {
          reid->Emit(ev.data, ev.event, out);
        } else {
          out.append(ev.raw);
        }
      });
      if (!st.ok()) stream_error = "upstream_malformed_stream";
    }
    if (stream_error.empty() && f != UpstreamFailure::kNone && !done) {
      stream_error = StreamReadFailure(ctx, f);
    }
    if (stream_error.empty() && parser.is_done() && !done) {
      stream_error = "upstream_stream_incomplete";
    }
    if (!stream_error.empty()) AppendStreamFailure(ctx, stream_error, false, out);
    if (!out.empty()) {
      ctx.bytes_out += out.size();
      if (co_await conn.SendChunk(out)) {
        ctx.client_gone = true;
        co_return;
      }
    }
    if (!stream_error.empty()) {
      up.stream().Close();  // do not pool a connection mid-message
      break;
    }
    if (parser.is_done() || done) break;
  }
  if (done) {
    ctx.stream_completed = true;
    co_await DrainRest(up, parser, conn.deadline(), rt.target.idle_timeout);
  }
  if (co_await conn.EndStream()) ctx.client_gone = true;
}

net::awaitable<void> GatewayHandler::RelayStreamTranslated(
    Connection& conn, RequestContext& ctx, UpstreamConnection& up,
    bhttp::response_parser<bhttp::buffer_body>& parser) {
  using Mode = RequestContext::Mode;
  const UpstreamRuntime& rt = *ctx.route->upstream;
  auto ct = parser.get()[bhttp::field::content_type];
  if (ct.substr(0, 17) != "text/event-stream") {
    co_await FailUpstream(conn, ctx, UpstreamFailure::kProtocol);
    co_return;
  }
  const bool anthropic_client = ctx.dialect == RequestContext::Dialect::kAnthropic;
  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
  head.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
  head.set(bhttp::field::cache_control, "no-cache");
  head.set("x-request-id", ctx.request_id);
  if (anthropic_client) head.set("request-id", ctx.request_id);
  ctx.status = 200;
  if (co_await conn.StartStream(head)) {
    ctx.client_gone = true;
    co_return;
  }

  // One of these follows the stream, by mode (the translators are pure state machines).
  an::StreamObserver observer;
  an::AnthropicToOpenAiStream to_openai(
      ctx.parsed.model,
      NowSeconds(),
      ctx.parsed.client_wants_usage);
  an::OpenAiToAnthropicStream to_anthropic(ctx.parsed.model);
  vx::GeminiToOpenAiStream from_gemini(ctx.parsed.model, NowSeconds(),
                                       ctx.parsed.client_wants_usage);
  // Claude on Vertex streams Anthropic events: Anthropic clients get them as they are.
  const Mode mode = ctx.mode == Mode::kVertexClaude
                        ? (anthropic_client ? Mode::kAnthropicPassthrough : Mode::kOpenAIToAnthropic)
                        : ctx.mode;
  std::vector<an::SseOut> outs;

  SseParser sse;
  std::string in;
  std::string out;
  bool done = false;             // the upstream's terminal event was seen and relayed
  bool translated_error = false;  // a mid-stream vendor error, already re-expressed to the client
  std::string stream_error;      // gateway error code once the stream has failed
  std::optional<ClientReidentifier> reid;
  if (ctx.phi) reid.emplace(*ctx.phi, anthropic_client);
  auto emit = [&](std::string_view data, std::string_view event) {
    if (reid) {
      reid->Emit(data, event, out);
    } else {
      out += EncodeSseEvent(data, event);
    }
  };
  for (;;) {
    in.clear();
    UpstreamFailure f = co_await ReadBodySome(up, parser, conn.deadline(), rt.target.idle_timeout,
                                              in, 64 * 1024);
    if (ctx.client_gone) co_return;
    out.clear();
    if (!in.empty() && !done) {
      core::Status st = sse.Feed(in, [&](const SseEvent& ev) {
        if (done || !stream_error.empty()) return;
        if (!ev.has_data) {
          if (mode == Mode::kAnthropicPassthrough) out.append(ev.raw);
          return;
        }
        ++ctx.events;
        core::Status es;
        outs.clear();
        switch (mode) {
          case Mode::kAnthropicPassthrough:
            es = observer.OnEvent(ev.event, ev.data);
            if (es.ok() && observer.errored()) {
              // The vendor's error event may quote the prompt: replaced below by the gateway's.
              stream_error = "upstream_stream_error";
              return;
            }
            if (es.ok() && reid) {
              reid->Emit(ev.data, ev.event, out);
            } else if (es.ok()) {
              out.append(ev.raw);
            }
            done = observer.done();
            break;
          case Mode::kOpenAIToAnthropic:
            es = to_openai.OnEvent(ev.event, ev.data, &outs);
            done = to_openai.done();
            translated_error = to_openai.outcome().finish == providers::FinishReason::kError;
            break;
          case Mode::kAnthropicToOpenAI:
            es = to_anthropic.OnData(ev.data, &outs);
            done = to_anthropic.done();
            translated_error = to_anthropic.outcome().finish == providers::FinishReason::kError;
            break;
          case Mode::kVertexGemini:
            es = from_gemini.OnData(ev.data, &outs);
            done = from_gemini.done();
            translated_error = from_gemini.outcome().finish == providers::FinishReason::kError;
            break;
          case Mode::kOpenAIPassthrough:
          case Mode::kBedrockInvoke:
          case Mode::kBedrockConverse:
          case Mode::kVertexClaude: break;
        }
        if (!es.ok()) {
          stream_error = "upstream_malformed_stream";
          done = false;
          return;
        }
        for (const auto& o : outs) emit(o.data, o.event);
      });
      if (!st.ok()) stream_error = "upstream_malformed_stream";
    }
    if (stream_error.empty() && f != UpstreamFailure::kNone && !done) {
      stream_error = StreamReadFailure(ctx, f);
    }
    if (stream_error.empty() && parser.is_done() && !done) {
      stream_error = "upstream_stream_incomplete";
    }
    if (!stream_error.empty()) AppendStreamFailure(ctx, stream_error, anthropic_client, out);
    if (!out.empty()) {
      ctx.bytes_out += out.size();
      if (co_await conn.SendChunk(out)) {
        ctx.client_gone = true;
        co_return;
      }
    }
    if (!stream_error.empty()) {
      up.stream().Close();  // do not pool a connection mid-message
      break;
    }
    if (parser.is_done() || done) break;
  }
  switch (mode) {
    case Mode::kAnthropicPassthrough: ctx.outcome = observer.outcome(); break;
    case Mode::kOpenAIToAnthropic: ctx.outcome = to_openai.outcome(); break;
    case Mode::kAnthropicToOpenAI: ctx.outcome = to_anthropic.outcome(); break;
    case Mode::kVertexGemini: ctx.outcome = from_gemini.outcome(); break;
    case Mode::kOpenAIPassthrough:
    case Mode::kBedrockInvoke:
    case Mode::kBedrockConverse:
    case Mode::kVertexClaude: break;
  }
  UsageFromOutcome(ctx);
  if (translated_error) {
    ctx.error_code = "upstream_stream_error";
    metrics_.RecordUpstreamError(rt.target.name, ctx.error_code);
    up.stream().Close();
  } else if (done) {
    ctx.stream_completed = true;
    co_await DrainRest(up, parser, conn.deadline(), rt.target.idle_timeout);
  }
  if (co_await conn.EndStream()) ctx.client_gone = true;
}

net::awaitable<void> GatewayHandler::RelayEventStream(
    Connection& conn, RequestContext& ctx, UpstreamConnection& up,
    bhttp::response_parser<bhttp::buffer_body>& parser) {
  const UpstreamRuntime& rt = *ctx.route->upstream;
  auto ct = parser.get()[bhttp::field::content_type];
  if (ct.substr(0, 34) != "application/vnd.amazon.eventstream") {
    co_await FailUpstream(conn, ctx, UpstreamFailure::kProtocol);
    co_return;
  }
  const bool anthropic_client = ctx.dialect == RequestContext::Dialect::kAnthropic;
  bhttp::response<bhttp::empty_body> head{bhttp::status::ok, 11};
  head.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
  head.set(bhttp::field::cache_control, "no-cache");
  head.set("x-request-id", ctx.request_id);
  if (anthropic_client) head.set("request-id", ctx.request_id);
  ctx.status = 200;
  if (co_await conn.StartStream(head)) {
    ctx.client_gone = true;
    co_return;
  }

  providers::bedrock::EventStreamDecoder decoder(rt.max_response_bytes);
  std::vector<providers::bedrock::EventStreamMessage> messages;
  an::StreamObserver observer;  // Anthropic clients: the events pass through re-framed as SSE
  an::AnthropicToOpenAiStream to_openai(
      ctx.parsed.model,
      NowSeconds(),
      ctx.parsed.client_wants_usage);
  // Converse routes: the messages are ConverseStream events, translated for OpenAI clients.
  const bool converse = ctx.mode == RequestContext::Mode::kBedrockConverse;
  providers::bedrock::ConverseToOpenAiStream from_converse(
      ctx.parsed.model, ctx.request_id, NowSeconds(), ctx.parsed.client_wants_usage);
  std::vector<an::SseOut> outs;
  std::string in;
  std::string out;
  bool done = false;
  bool translated_error = false;
  std::string stream_error;
  std::optional<ClientReidentifier> reid;
  if (ctx.phi) reid.emplace(*ctx.phi, anthropic_client);
  auto emit = [&](std::string_view data, std::string_view event) {
    if (reid) {
      reid->Emit(data, event, out);
    } else {
      out += EncodeSseEvent(data, event);
    }
  };
  // One Anthropic event (decoded from a chunk's base64 `bytes`) to the client.
  auto on_anthropic_event = [&](std::string_view data) {
    json::error_code ec;
    json::value v = json::parse(data, ec);
    if (ec || !v.is_object() || !v.as_object().contains("type") ||
        !v.as_object().at("type").is_string()) {
      stream_error = "upstream_malformed_stream";
      return;
    }
    json::object& obj = v.as_object();
    const std::string type(obj.at("type").as_string());
    obj.erase("amazon-bedrock-invocationMetrics");  // Bedrock's addition, not Anthropic's shape
    if (anthropic_client) {
      observer.OnParsedEvent(type, obj);
      if (observer.errored()) {
        stream_error = "upstream_stream_error";
        return;
      }
      emit(json::serialize(obj), type);
      done = observer.done();
    } else {
      outs.clear();
      (void)to_openai.OnEvent(type, json::serialize(obj), &outs);
      for (const auto& o : outs) emit(o.data, o.event);
      done = to_openai.done();
      translated_error = to_openai.outcome().finish == providers::FinishReason::kError;
    }
  };
  for (;;) {
    in.clear();
    UpstreamFailure f = co_await ReadBodySome(up, parser, conn.deadline(), rt.target.idle_timeout,
                                              in, 64 * 1024);
    if (ctx.client_gone) co_return;
    out.clear();
    if (!in.empty() && !done && stream_error.empty()) {
      messages.clear();
      core::Status st = decoder.Feed(in, &messages);
      for (const auto& m : messages) {
        if (done || !stream_error.empty()) break;
        ++ctx.events;
        if (converse) {
          const std::string_view mtype = m.StringHeader(":message-type");
          outs.clear();
          if (!from_converse
                   .OnMessage(mtype,
                              m.StringHeader(mtype == "event" ? ":event-type" : ":exception-type"),
                              m.payload, &outs)
                   .ok()) {
            stream_error = "upstream_malformed_stream";
            break;
          }
          for (const auto& o : outs) out += EncodeSseEvent(o.data, o.event);
          done = from_converse.done();
          translated_error = from_converse.outcome().finish == providers::FinishReason::kError;
          continue;
        }
        if (m.StringHeader(":message-type") != "event") {
          // exception or error message: its text may quote the prompt and is not relayed.
          stream_error = "upstream_stream_error";
          break;
        }
        if (m.StringHeader(":event-type") != "chunk") continue;
        json::error_code ec;
        json::value pv = json::parse(m.payload, ec);
        const json::value* bytes =
            !ec && pv.is_object() ? pv.as_object().if_contains("bytes") : nullptr;
        if (bytes == nullptr || !bytes->is_string()) {
          stream_error = "upstream_malformed_stream";
          break;
        }
        std::string_view b64 = bytes->as_string();
        // Beast's decoder stops at padding; strip it so `read` can prove every digit was valid.
        while (!b64.empty() && b64.back() == '=') b64.remove_suffix(1);
        std::string decoded(b64.size() * 3 / 4 + 3, '\0');
        auto [written, read] = beast::detail::base64::decode(decoded.data(), b64.data(), b64.size());
        if (read != b64.size()) {
          stream_error = "upstream_malformed_stream";
          break;
        }
        decoded.resize(written);
        on_anthropic_event(decoded);
      }
      if (!st.ok() && stream_error.empty()) stream_error = "upstream_framing";
    }
    if (stream_error.empty() && f != UpstreamFailure::kNone && !done) {
      stream_error = StreamReadFailure(ctx, f);
    }
    if (stream_error.empty() && parser.is_done() && !done && converse &&
        from_converse.stopped() && decoder.Finish().ok()) {
      outs.clear();  // the answer is complete; only the trailing metadata (usage) is missing
      from_converse.Finish(&outs);
      for (const auto& o : outs) out += EncodeSseEvent(o.data, o.event);
      done = true;
    }
    if (stream_error.empty() && parser.is_done() && !done) {
      stream_error = decoder.Finish().ok() ? "upstream_stream_incomplete" : "upstream_framing";
    }
    if (!stream_error.empty()) AppendStreamFailure(ctx, stream_error, anthropic_client, out);
    if (!out.empty()) {
      ctx.bytes_out += out.size();
      if (co_await conn.SendChunk(out)) {
        ctx.client_gone = true;
        co_return;
      }
    }
    if (!stream_error.empty()) {
      up.stream().Close();
      break;
    }
    if (parser.is_done() || done) break;
  }
  ctx.outcome = converse           ? from_converse.outcome()
                : anthropic_client ? observer.outcome()
                                   : to_openai.outcome();
  if (!stream_error.empty() && ctx.outcome.error_class.empty()) {
    ctx.outcome.error_class = stream_error;
  }
  UsageFromOutcome(ctx);
  if (translated_error) {
    ctx.error_code = "upstream_stream_error";
    up.stream().Close();
  } else if (done) {
    ctx.stream_completed = true;
    co_await DrainRest(up, parser, conn.deadline(), rt.target.idle_timeout);
  }
  if (co_await conn.EndStream()) ctx.client_gone = true;
}

net::awaitable<void> GatewayHandler::SendModels(Connection& conn, RequestContext& ctx,
                                                unsigned) {
  json::array data;
  for (const auto& r : ctx.snapshot->routes()) {
    if (r.pattern.back() == '*') continue;  // wildcards are not model names
    if (!ctx.snapshot->Allows(*ctx.principal, r)) continue;
    data.push_back(json::object{{"id", r.pattern},
                                {"object", "model"},
                                {"created", 0},
                                {"owned_by", r.upstream->target.name}});
  }
  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-request-id", ctx.request_id);
  res.body() = json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
  ctx.status = 200;
  ctx.bytes_out += res.body().size();
  co_await conn.Send(res);
}

void GatewayHandler::Record(const RequestContext& ctx) {
  auto now = Clock::now();
  double seconds = std::chrono::duration<double>(now - ctx.start).count();
  std::string_view route = ctx.route ? std::string_view(ctx.route->pattern) : "none";
  std::string_view endpoint = ctx.dialect == RequestContext::Dialect::kAnthropic
                                  ? an::EndpointName(ctx.an_endpoint)
                                  : oa::EndpointName(ctx.endpoint);
  metrics_.RecordRequest(route, endpoint, ctx.status, seconds);
  if (ctx.usage.prompt_tokens >= 0 || ctx.usage.completion_tokens >= 0) {
    metrics_.RecordTokens(route, ctx.usage.prompt_tokens, ctx.usage.completion_tokens);
  }
  if (!ctx.snapshot->config().log.access) return;
  LogLine line(ctx.status >= 500 ? LogLevel::kWarn : LogLevel::kInfo, "request");
  line.Str("request_id", ctx.request_id)
      .Str("endpoint", endpoint)
      .Uint("status", ctx.status)
      .Double("duration_ms", seconds * 1000.0);
  if (ctx.principal) {
    line.Str("key", ctx.principal->key_name)
        .Str("tenant", ctx.principal->tenant)
        .Str("app", ctx.principal->app)
        .Str("role", ctx.principal->role)
        .Str("purpose", ctx.principal->purpose);
  }
  if (ctx.route) {
    line.Str("route", ctx.route->pattern).Str("upstream", ctx.route->upstream->target.name);
    line.Bool("stream", ctx.parsed.stream);
  }
  if (ctx.upstream_status) line.Uint("upstream_status", ctx.upstream_status);
  if (ctx.first_byte != Clock::time_point{}) {
    line.Double("upstream_first_byte_ms",
                std::chrono::duration<double, std::milli>(ctx.first_byte - ctx.upstream_start).count());
  }
  if (ctx.upstream_failure != UpstreamFailure::kNone) {
    line.Str("upstream_failure", UpstreamFailureName(ctx.upstream_failure));
  }
  if (!ctx.error_code.empty()) line.Str("error_code", ctx.error_code);
  if (ctx.dialect == RequestContext::Dialect::kAnthropic) line.Str("dialect", "anthropic");
  if (ctx.outcome.finish != providers::FinishReason::kUnknown) {
    line.Str("finish_reason", providers::FinishReasonName(ctx.outcome.finish))
        .Str("outcome", providers::AuditStatus(ctx.outcome));
  }
  if (ctx.decided) {
    // Reason codes are registry ids and identifier-shaped field names: no request content.
    std::string reasons;
    for (const auto& r : ctx.decision.reasons) {
      if (!reasons.empty()) reasons += ',';
      reasons += r;
    }
    line.Str("decision", policy::DecisionName(ctx.decision.decision))
        .Str("baa_in_scope", policy::ScopeName(ctx.decision.scope));
    if (!reasons.empty()) line.Str("scope_reasons", reasons);
  }
  if (ctx.phi) {
    // Counts per Safe Harbor class, never the text.
    std::string findings;
    const phi::FindingCounts& counts = ctx.phi->finding_counts();
    for (std::size_t i = 0; i < counts.size(); ++i) {
      if (counts[i] == 0) continue;
      if (!findings.empty()) findings += ',';
      findings += std::string(phi::ClassName(static_cast<phi::PhiClass>(i))) + ":" +
                  std::to_string(counts[i]);
    }
    line.Str("phi_findings", findings.empty() ? std::string("none") : findings);
  }
  if (ctx.usage.prompt_tokens >= 0) line.Int("prompt_tokens", ctx.usage.prompt_tokens);
  if (ctx.usage.completion_tokens >= 0) line.Int("completion_tokens", ctx.usage.completion_tokens);
  if (ctx.parsed.stream) {
    line.Uint("events", ctx.events).Bool("stream_completed", ctx.stream_completed);
  }
  if (ctx.client_gone) line.Bool("client_disconnected", true);
  if (ctx.failovers) line.Uint("failovers", ctx.failovers);
  line.Uint("bytes_out", ctx.bytes_out);
  line.Emit();
}

void GatewayHandler::RecordOutcome(const RequestContext& ctx) {
  if (!audit_ || ctx.audit_event_id.empty()) return;
  auto ms = [](Clock::duration d) {
    return static_cast<std::uint64_t>(
        std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(d).count()));
  };
  OutcomeFacts f;
  f.decision_event_id = ctx.audit_event_id;
  f.request_id = ctx.request_id;
  f.principal = ctx.principal;
  f.route = ctx.route;
  const bool stream_broken = ctx.parsed.stream && ctx.status == 200 && !ctx.stream_completed;
  if (ctx.decision.decision == policy::DecisionKind::kBlock) {
    f.status = audit::OutcomeStatus::kBlocked;
  } else if (ctx.client_gone) {
    f.status = audit::OutcomeStatus::kClientDisconnected;
  } else if (ctx.upstream_failure == UpstreamFailure::kFirstByteTimeout ||
             ctx.error_code == "upstream_timeout") {
    f.status = audit::OutcomeStatus::kUpstreamTimeout;
  } else if (!stream_broken &&
             (ctx.finish_reason == "content_filter" || ctx.outcome.content_filter)) {
    // A filtered completion (200) or a prompt the vendor's filter refused (Azure's 400
    // content_filter): both are content-filter results.
    f.status = audit::OutcomeStatus::kContentFilterTriggered;
  } else if (ctx.status == 200 && !stream_broken) {
    f.status = audit::OutcomeStatus::kSuccess;
  } else {
    f.status = audit::OutcomeStatus::kError;
  }
  f.http_status = ctx.status;
  f.upstream_status = ctx.upstream_status;
  f.error_class = ctx.error_code;
  // Translated routes report the vendor's stop reason through the canonical outcome.
  const std::string_view canonical_finish =
      ctx.outcome.finish == providers::FinishReason::kUnknown
          ? std::string_view()
          : providers::FinishReasonName(ctx.outcome.finish);
  f.finish_reason = ctx.finish_reason.empty() ? canonical_finish : std::string_view(ctx.finish_reason);
  f.prompt_tokens = ctx.usage.prompt_tokens;
  f.completion_tokens = ctx.usage.completion_tokens;
  f.bytes_in = ctx.bytes_in;
  f.bytes_out = ctx.bytes_out;
  f.stream_events = ctx.events;
  f.latency_ms = ms(Clock::now() - ctx.start);
  if (ctx.first_byte != Clock::time_point{}) f.ttfb_ms = ms(ctx.first_byte - ctx.start);
  f.upstream_request_id = ctx.upstream_request_id;
  // OpenAI-shaped answers set model_served as they are read; the others carry it in the
  // outcome (Anthropic "model", Gemini "modelVersion"; Converse names none).
  f.model_served = ctx.model_served.empty() ? std::string_view(ctx.outcome.model)
                                            : std::string_view(ctx.model_served);
  // Fire and forget: the response is already out; a failure is logged (never content).
  audit_->AppendOutcomeAsync(MakeOutcomeRecord(f), [](core::Result<audit::Appended> r) {
    if (!r.ok()) {
      LogLine(LogLevel::kError, "audit_outcome_failed").Str("error", r.status().ToString()).Emit();
    }
  });
}

http::ServerLimits ServerLimitsFromConfig(const config::LimitsConfig& l) {
  http::ServerLimits s;
  s.max_body_bytes = l.max_body_bytes;
  s.max_header_bytes = l.max_header_bytes;
  s.max_connections = l.max_connections;
  s.header_timeout = l.header_timeout;
  s.body_timeout = l.body_timeout;
  s.keepalive_timeout = l.keepalive_timeout;
  s.write_timeout = l.write_timeout;
  s.drain_timeout = l.drain_timeout;
  s.timer_resolution = l.timer_resolution;
  return s;
}

Gateway::Gateway(std::shared_ptr<const Snapshot> snapshot, admin::Metrics& metrics,
                 audit::AuditLog* audit)
    : metrics_(metrics), audit_(audit), snapshot_(std::move(snapshot)) {}

std::unique_ptr<Handler> Gateway::MakeHandler(Worker& worker) {
  std::lock_guard<std::mutex> lock(mu_);
  auto h = std::make_unique<GatewayHandler>(worker, snapshot_, metrics_, audit_, detector_,
                                            budget_);
  handlers_.emplace_back(&worker, h.get());
  return h;
}

void Gateway::Swap(std::shared_ptr<const Snapshot> snapshot) {
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = snapshot;
  for (auto [worker, handler] : handlers_) {
    net::post(worker->io(), [h = handler, snapshot] { h->SetSnapshot(snapshot); });
  }
}

void Gateway::SetDeidentifier(std::shared_ptr<const phi::Detector> detector) {
  std::lock_guard<std::mutex> lock(mu_);
  detector_ = detector;
  for (auto [worker, handler] : handlers_) {
    net::post(worker->io(), [h = handler, detector] { h->SetDetector(detector); });
  }
}

std::shared_ptr<const Snapshot> Gateway::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

}  // namespace baagate::pipeline
