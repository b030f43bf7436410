#include "pipeline/gateway.h"

#include <boost/json.hpp>

#include <optional>

#include "core/log.h"
#include "core/uuid.h"
#include "http/sse.h"
#include "http/upstream.h"
#include "pipeline/audit_stage.h"
#include "pipeline/decide.h"
#include "policy/block.h"
#include "providers/openai/openai.h"

namespace baagate::pipeline {

namespace {

using namespace baagate::http;
namespace oa = baagate::providers::openai;
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
  oa::ParsedRequest parsed;
  std::string upstream_body;
  bool decided = false;
  policy::Decision decision;
  std::string audit_event_id;  // the decision record's event_id once it is durable


  // Outcome, for the log line and metrics.
  unsigned status = 0;
  std::string error_code;  // gateway-defined codes only
  UpstreamFailure upstream_failure = UpstreamFailure::kNone;
  unsigned upstream_status = 0;
  oa::Usage usage;
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

}  // namespace

class GatewayHandler final : public Handler {
 public:
  GatewayHandler(Worker& worker, std::shared_ptr<const Snapshot> snapshot,
                 admin::Metrics& metrics, audit::AuditLog* audit)
      : pool_(worker.executor()), snapshot_(std::move(snapshot)), metrics_(metrics),
        audit_(audit) {}

  void SetSnapshot(std::shared_ptr<const Snapshot> s) { snapshot_ = std::move(s); }

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
  net::awaitable<void> SendBlocked(Connection& conn, RequestContext& ctx);
  void Decide(RequestContext& ctx, const std::string& upstream_model);
  void Record(const RequestContext& ctx);
  void RecordOutcome(const RequestContext& ctx);

  UpstreamPool pool_;
  std::shared_ptr<const Snapshot> snapshot_;  // worker thread only
  admin::Metrics& metrics_;
  audit::AuditLog* audit_;  // null: audit disabled; else outlives the handler
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
  res.body() = oa::ErrorJson(message, type.empty() ? oa::ErrorTypeForStatus(status) : type, param,
                             code);
  ctx.bytes_out += res.body().size();
  co_await conn.Send(res);
}

net::awaitable<void> GatewayHandler::Run(Request& req, Connection& conn, RequestContext& ctx) {
  // classify
  ctx.endpoint = oa::ClassifyPath(PathOf(req.target()));
  if (ctx.endpoint == oa::Endpoint::kUnknown) {
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

  // route
  ctx.route = ctx.snapshot->FindRoute(ctx.parsed.model);
  if (!ctx.route) {
    co_await SendError(conn, ctx, 404, "model_not_found",
                       "The model requested is not configured on this gateway.", "model");
    co_return;
  }
  if (!ctx.snapshot->Allows(*ctx.principal, *ctx.route)) {
    co_await SendError(conn, ctx, 403, "model_not_allowed",
                       "This gateway key may not use the model requested.", "model");
    co_return;
  }
  if (!ctx.route->upstream->credential_problem.empty()) {
    co_await SendError(conn, ctx, 502, "upstream_credential_missing",
                       "The gateway has no credential for this model's upstream; an operator "
                       "must configure it.");
    co_return;
  }

  const std::string& upstream_model =
      ctx.route->upstream_model.empty() ? ctx.parsed.model : ctx.route->upstream_model;

  // decide and enforce: the five questions, on the body as it will leave
  Decide(ctx, upstream_model);
  if (ctx.decision.decision == policy::DecisionKind::kAllowDeidentified) {
    // No de-identifier is wired into this build: fail closed rather than send PHI.
    ctx.decision.decision = policy::DecisionKind::kBlock;
    ctx.decision.reasons.push_back("DEID_UNAVAILABLE");
  }
  // audit: the decision record is durable before anything is forwarded (or refused), and a
  // gateway that cannot write it refuses the call (fail closed)
  if (audit_) {
    DecisionFacts facts;
    facts.request_id = ctx.request_id;
    facts.principal = ctx.principal;
    facts.route = ctx.route;
    facts.endpoint_path = PathOf(req.target());
    facts.api_surface = ctx.endpoint == oa::Endpoint::kEmbeddings ? "openai.embeddings"
                                                                  : "openai.chat_completions";
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
      co_return;
    }
    ctx.audit_event_id = std::move(appended.event_id);
  }
  if (ctx.decision.decision == policy::DecisionKind::kBlock) {
    co_await SendBlocked(conn, ctx);
    co_return;
  }
  if (ctx.route->upstream->provider != "openai") {
    co_await SendError(conn, ctx, 502, "upstream_protocol_unsupported",
                       "This model's upstream speaks a protocol this gateway build cannot "
                       "forward to; an operator must change the route.");
    co_return;
  }
  ctx.upstream_body = oa::EncodeUpstreamBody(ctx.parsed, upstream_model);

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

void GatewayHandler::Decide(RequestContext& ctx, const std::string& upstream_model) {
  DecideInput in;
  in.route = ctx.route;
  in.app = ctx.principal->app;
  in.surface = ctx.endpoint == oa::Endpoint::kEmbeddings ? policy::Surface::kOpenAIEmbeddings
                                                         : policy::Surface::kOpenAIChat;
  in.upstream_model = upstream_model;
  in.now = NowSeconds();
  DecideOutput out;
  DecideAndEnforce(*ctx.snapshot, in, ctx.parsed.body, &out);
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
  res.body() = policy::BlockBody(policy::Dialect::kOpenAI, ctx.decision, ctx.request_id);
  ctx.bytes_out += res.body().size();
  co_await conn.Send(res);
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
    co_await FailUpstream(conn, ctx, failure);
    co_return;
  }
  ctx.upstream = uc.get();
  struct ClearUpstream {
    RequestContext& c;
    ~ClearUpstream() { c.upstream = nullptr; }
  } clear{ctx};

  Request ureq{bhttp::verb::post, target.url.path + std::string(oa::EndpointUpstreamPath(ctx.endpoint)), 11};
  ureq.set(bhttp::field::host, target.host_header);
  if (!up.authorization.empty()) ureq.set(bhttp::field::authorization, up.authorization.Expose());
  ureq.set(bhttp::field::content_type, "application/json");
  ureq.set(bhttp::field::accept, ctx.parsed.stream ? "text/event-stream" : "application/json");
  ureq.set(bhttp::field::user_agent, kUserAgent);
  ureq.set("x-request-id", ctx.request_id);
  ureq.keep_alive(true);
  ureq.body() = std::move(ctx.upstream_body);
  ureq.prepare_payload();

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
    co_await FailUpstream(conn, ctx,
                          fired ? UpstreamFailure::kFirstByteTimeout : UpstreamFailure::kRead);
    co_return;
  }
  ctx.first_byte = Clock::now();
  ctx.upstream_status = parser.get().result_int();
  ctx.upstream_request_id = std::string(parser.get()["x-request-id"].substr(0, 128));

  if (ctx.upstream_status != 200) {
    co_await RelayUpstreamError(conn, ctx, *uc, parser);
  } else if (ctx.parsed.stream) {
    co_await RelayStream(conn, ctx, *uc, parser);
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
  oa::ReadUsage(v.as_object(), &ctx.usage);
  ReadFinishReason(v.as_object(), &ctx.finish_reason);
  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-request-id", ctx.request_id);
  res.body() = std::move(body);
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
          out.append(ev.raw);
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
        bool usage_only = false;
        if (oa::ReadUsage(obj, &ctx.usage)) {
          const json::value* choices = obj.if_contains("choices");
          usage_only = choices && choices->is_array() && choices->as_array().empty();
        }
        if (usage_only && !ctx.parsed.client_wants_usage) return;  // we asked for it, not them
        out.append(ev.raw);
      });
      if (!st.ok()) stream_error = "upstream_malformed_stream";
    }
    if (stream_error.empty() && f != UpstreamFailure::kNone && !done) {
      ctx.upstream_failure = f;
      metrics_.RecordUpstreamError(rt.target.name, UpstreamFailureName(f));
      stream_error = UpstreamFailureHttpStatus(f) == 504 ? "upstream_timeout" : "upstream_stream_broken";
    }
    if (stream_error.empty() && parser.is_done() && !done) {
      stream_error = "upstream_stream_incomplete";
    }
    if (!stream_error.empty()) {
      if (ctx.upstream_failure == UpstreamFailure::kNone) {
        metrics_.RecordUpstreamError(rt.target.name, stream_error);
      }
      ctx.error_code = stream_error;
      out += EncodeSseEvent(oa::ErrorJson(
          "The upstream provider's stream failed; the response is incomplete. The provider's "
          "own message is withheld because it may quote the request.",
          "upstream_error", "", stream_error));
    }
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
    // Drain what follows [DONE] (normally nothing) so the connection can be pooled.
    std::string rest;
    while (!parser.is_done()) {
      rest.clear();
      if (co_await ReadBodySome(up, parser, conn.deadline(), rt.target.idle_timeout, rest,
                                64 * 1024) != UpstreamFailure::kNone) {
        break;
      }
    }
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
  std::string_view endpoint = oa::EndpointName(ctx.endpoint);
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
  if (ctx.usage.prompt_tokens >= 0) line.Int("prompt_tokens", ctx.usage.prompt_tokens);
  if (ctx.usage.completion_tokens >= 0) line.Int("completion_tokens", ctx.usage.completion_tokens);
  if (ctx.parsed.stream) {
    line.Uint("events", ctx.events).Bool("stream_completed", ctx.stream_completed);
  }
  if (ctx.client_gone) line.Bool("client_disconnected", true);
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
  } else if (ctx.status == 200 && !stream_broken && ctx.finish_reason == "content_filter") {
    f.status = audit::OutcomeStatus::kContentFilterTriggered;
  } else if (ctx.status == 200 && !stream_broken) {
    f.status = audit::OutcomeStatus::kSuccess;
  } else {
    f.status = audit::OutcomeStatus::kError;
  }
  f.http_status = ctx.status;
  f.upstream_status = ctx.upstream_status;
  f.error_class = ctx.error_code;
  f.finish_reason = ctx.finish_reason;
  f.prompt_tokens = ctx.usage.prompt_tokens;
  f.completion_tokens = ctx.usage.completion_tokens;
  f.bytes_in = ctx.bytes_in;
  f.bytes_out = ctx.bytes_out;
  f.stream_events = ctx.events;
  f.latency_ms = ms(Clock::now() - ctx.start);
  if (ctx.first_byte != Clock::time_point{}) f.ttfb_ms = ms(ctx.first_byte - ctx.start);
  f.upstream_request_id = ctx.upstream_request_id;
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
  auto h = std::make_unique<GatewayHandler>(worker, snapshot_, metrics_, audit_);
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

std::shared_ptr<const Snapshot> Gateway::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

}  // namespace baagate::pipeline
