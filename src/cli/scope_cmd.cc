// `baagate scope check|matrix`: the five questions offline, and the coverage matrix.
#include <boost/json.hpp>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "config/config.h"
#include "config/yaml_reader.h"
#include "pipeline/decide.h"
#include "pipeline/snapshot.h"
#include "policy/block.h"

namespace baagate::cli {

namespace json = boost::json;

namespace {

struct ScopeFlags {
  std::string config_path;
  std::string request_path;
  std::string route;
  std::string app;
  std::string endpoint = "chat";
  std::string beta;
  std::string at;
  std::string format = "table";
};

core::Result<std::shared_ptr<const pipeline::Snapshot>> LoadSnapshot(const std::string& path) {
  auto cfg = path.empty() ? config::ParseConfig(config::EmbeddedDefaultYaml(), "<embedded defaults>")
                          : config::LoadConfigFile(path);
  if (!cfg.ok()) return cfg.status();
  return pipeline::Snapshot::Build(*cfg);
}

bool ParseSurface(const std::string& s, policy::Surface* out) {
  if (s == "chat") *out = policy::Surface::kOpenAIChat;
  else if (s == "embeddings") *out = policy::Surface::kOpenAIEmbeddings;
  else if (s == "responses") *out = policy::Surface::kOpenAIResponses;
  else if (s == "messages") *out = policy::Surface::kAnthropicMessages;
  else if (s == "count_tokens") *out = policy::Surface::kAnthropicCountTokens;
  else return false;
  return true;
}

// The app whose policy applies: --app, else the only app configured, else the only key's app.
std::string DefaultApp(const pipeline::Snapshot& snap, const std::string& flag) {
  if (!flag.empty()) return flag;
  const auto& cfg = snap.config();
  if (cfg.apps.size() == 1) return cfg.apps[0].id;
  if (cfg.keys.size() == 1) return cfg.keys[0].app;
  return "";
}

std::int64_t When(const std::string& at, bool* ok) {
  *ok = true;
  if (at.empty()) return pipeline::NowSeconds();
  std::int64_t t = 0;
  *ok = config::ParseRfc3339Utc(at, &t);
  return t;
}

int Check(const ScopeFlags& f) {
  auto snap = LoadSnapshot(f.config_path);
  if (!snap.ok()) {
    std::cerr << "baagate scope check: " << snap.status().message() << "\n";
    return 1;
  }
  const pipeline::Snapshot& s = **snap;
  policy::Surface surface;
  if (!ParseSurface(f.endpoint, &surface)) {
    std::cerr << "baagate scope check: --endpoint must be chat, embeddings, responses, messages or "
                 "count_tokens\n";
    return 1;
  }
  const pipeline::RouteRuntime* route = s.FindRouteByName(f.route);
  if (!route) route = s.FindRoute(f.route);
  if (!route) {
    std::cerr << "baagate scope check: no route named or matching '" << f.route
              << "'; routes:";
    for (const auto& r : s.routes()) std::cerr << " " << r.name;
    std::cerr << "\n";
    return 1;
  }
  std::string text;
  if (f.request_path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(f.request_path, std::ios::binary);
    if (!in) {
      std::cerr << "baagate scope check: cannot read " << f.request_path << "\n";
      return 1;
    }
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  json::error_code ec;
  json::value body = json::parse(text, ec);
  if (ec || !body.is_object()) {
    std::cerr << "baagate scope check: " << f.request_path << " is not a JSON object\n";
    return 1;
  }
  bool ok = false;
  pipeline::DecideInput in;
  in.route = route;
  std::string app = DefaultApp(s, f.app);
  in.app = app;
  in.surface = surface;
  const json::value* model = body.as_object().if_contains("model");
  std::string upstream_model = route->upstream_model;
  if (upstream_model.empty() && model && model->is_string()) upstream_model = std::string(model->get_string());
  in.upstream_model = upstream_model;
  in.beta_headers = f.beta;
  in.now = When(f.at, &ok);
  if (!ok) {
    std::cerr << "baagate scope check: --at must be an RFC 3339 UTC time\n";
    return 1;
  }
  pipeline::DecideOutput out;
  DecideAndEnforce(s, in, body.as_object(), &out, /*want_before=*/true);
  json::object result = policy::DecisionToJson(out.decision);
  json::array features, min, mout;
  for (const auto& x : out.facts.features) features.emplace_back(x);
  for (const auto& x : out.facts.modalities_in) min.emplace_back(x);
  for (const auto& x : out.facts.modalities_out) mout.emplace_back(x);
  json::object head{{"route", route->name},
                    {"app", app},
                    {"provider", out.facts.provider},
                    {"surface", out.facts.surface},
                    {"endpoint", out.facts.endpoint},
                    {"model", out.facts.model},
                    {"region", out.facts.region},
                    {"features", std::move(features)},
                    {"modalities_in", std::move(min)},
                    {"modalities_out", std::move(mout)}};
  for (auto& kv : result) head[kv.key()] = kv.value();
  json::array before_reasons;
  for (const auto& r : out.before.reasons) before_reasons.emplace_back(r);
  head["before_enforcement"] = json::object{
      {"decision", policy::DecisionName(out.before.decision)}, {"reasons", std::move(before_reasons)}};
  if (out.decision.decision != policy::DecisionKind::kAllow) head["fix"] = policy::FixHint(out.decision);
  std::cout << json::serialize(head) << "\n";
  return out.decision.decision == policy::DecisionKind::kBlock ? 3 : 0;
}

// The feature columns of the matrix: one synthetic request per cell, evaluated by the engine.
struct Column {
  const char* feature;  // "core": a plain text request
  const char* modality;
};
constexpr Column kColumns[] = {
    {"core", "text"},          {"tools.function", "text"},    {"structured_output.json_schema", "text"},
    {"reasoning", "text"},     {"prompt_cache", "text"},      {"vision.image_input", "image"},
    {"pdf_input", "pdf"},      {"audio.input", "audio"},      {"audio.output", "text"},
    {"web_search", "text"},    {"web_fetch", "text"},         {"code_execution", "text"},
    {"computer_use", "image"}, {"mcp", "text"},               {"file_ref", "file_ref"},
    {"background", "text"},    {"conversation_state", "text"},
};

struct Cell {
  policy::Decision d;
};

std::string Short(const policy::Decision& d) {
  switch (d.decision) {
    case policy::DecisionKind::kAllow: return d.scope == policy::Scope::kCovered ? "covered" : "cond";
    case policy::DecisionKind::kAllowDeidentified: return "deid";
    case policy::DecisionKind::kBlock: return "BLOCK";
  }
  return "?";
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

int Matrix(const ScopeFlags& f) {
  auto snap = LoadSnapshot(f.config_path);
  if (!snap.ok()) {
    std::cerr << "baagate scope matrix: " << snap.status().message() << "\n";
    return 1;
  }
  const pipeline::Snapshot& s = **snap;
  bool ok = false;
  const std::int64_t now = When(f.at, &ok);
  if (!ok) {
    std::cerr << "baagate scope matrix: --at must be an RFC 3339 UTC time\n";
    return 1;
  }
  if (f.format != "table" && f.format != "json" && f.format != "html") {
    std::cerr << "baagate scope matrix: --format must be table, json or html\n";
    return 1;
  }
  const std::string app = DefaultApp(s, f.app);
  std::vector<std::vector<policy::Decision>> grid;
  for (const auto& r : s.routes()) {
    std::vector<policy::Decision> row;
    for (const Column& c : kColumns) {
      policy::RequestFacts facts;
      facts.provider = r.upstream->provider;
      facts.surface = policy::UpstreamSurface(r.upstream->provider, policy::Surface::kOpenAIChat);
      facts.endpoint = "POST /v1/chat/completions";
      facts.model = r.upstream_model.empty() ? r.pattern : r.upstream_model;
      facts.region = r.upstream->region;
      facts.private_connectivity = r.upstream->private_connectivity;
      facts.AddModalityIn(c.modality);
      if (std::string_view(c.feature) != "core") facts.AddFeature(c.feature);
      if (std::string_view(c.feature) == "background") facts.background = true;
      if (std::string_view(c.feature) == "conversation_state") facts.conversation_state = true;
      policy::CallContext call{app, r.deidentified_fallback, now};
      row.push_back(s.policy().Evaluate(facts, call));
    }
    grid.push_back(std::move(row));
  }
  const auto& routes = s.routes();
  if (f.format == "json") {
    json::array rows;
    for (std::size_t i = 0; i < routes.size(); ++i) {
      json::object cells;
      for (std::size_t j = 0; j < std::size(kColumns); ++j) {
        json::array reasons;
        for (const auto& r : grid[i][j].reasons) reasons.emplace_back(r);
        cells[kColumns[j].feature] = json::object{
            {"decision", policy::DecisionName(grid[i][j].decision)},
            {"baa_in_scope", policy::ScopeName(grid[i][j].scope)},
            {"reasons", std::move(reasons)}};
      }
      rows.push_back(json::object{{"route", routes[i].name},
                                  {"provider", routes[i].upstream->provider},
                                  {"region", routes[i].upstream->region},
                                  {"cells", std::move(cells)}});
    }
    std::cout << json::serialize(json::object{
                     {"tenant", s.config().tenant.id},
                     {"app", app},
                     {"registry_version", s.policy().registry().sha256},
                     {"config_hash", s.policy().config_hash()},
                     {"routes", std::move(rows)}})
              << "\n";
    return 0;
  }
  if (f.format == "html") {
    std::cout << "<!doctype html><html><head><meta charset=\"utf-8\"><title>baagate coverage matrix"
                 "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
                 "collapse}td,th{border:1px solid #ccc;padding:4px 6px;font-size:12px}"
                 ".covered{background:#c8f0c8}.cond{background:#e6f7d0}.deid{background:#fff0b3}"
                 ".BLOCK{background:#f8c8c8}th.f{writing-mode:vertical-rl}</style></head><body>\n";
    std::cout << "<h1>BAA coverage matrix</h1><p>Tenant <b>" << HtmlEscape(s.config().tenant.id)
              << "</b>, app <b>" << HtmlEscape(app) << "</b>. Registry " << s.policy().registry().sha256
              << ", configuration " << s.policy().config_hash()
              << ". Each cell is the engine's decision for a plain request using that feature; "
                 "hover for the reason codes. store, metadata and end-user ids are enforced by the "
                 "gateway and not shown.</p>\n<table><tr><th>route</th><th>provider</th><th>region</th>";
    for (const Column& c : kColumns) std::cout << "<th class=\"f\">" << c.feature << "</th>";
    std::cout << "</tr>\n";
    for (std::size_t i = 0; i < routes.size(); ++i) {
      std::cout << "<tr><td>" << HtmlEscape(routes[i].name) << "</td><td>"
                << HtmlEscape(routes[i].upstream->provider) << "</td><td>"
                << HtmlEscape(routes[i].upstream->region) << "</td>";
      for (const auto& d : grid[i]) {
        std::string reasons;
        for (const auto& r : d.reasons) reasons += r + " ";
        std::cout << "<td class=\"" << Short(d) << "\" title=\"" << HtmlEscape(reasons) << "\">"
                  << Short(d) << "</td>";
      }
      std::cout << "</tr>\n";
    }
    std::cout << "</table></body></html>\n";
    return 0;
  }
  // table
  std::size_t w = 5;
  for (const auto& r : routes) w = std::max(w, r.name.size());
  std::cout << "tenant " << s.config().tenant.id << ", app " << app << "; registry "
            << s.policy().registry().sha256.substr(0, 12) << ", config "
            << s.policy().config_hash().substr(0, 12) << "\n";
  std::cout << "covered/cond: allowed (cond = conditions met); deid: de-identified fallback; "
               "BLOCK: refused. Columns:\n";
  for (std::size_t j = 0; j < std::size(kColumns); ++j) {
    std::cout << "  " << std::setw(2) << j + 1 << " " << kColumns[j].feature << "\n";
  }
  std::cout << std::left << std::setw(int(w) + 2) << "route" << std::setw(18) << "provider";
  for (std::size_t j = 0; j < std::size(kColumns); ++j) std::cout << std::setw(8) << j + 1;
  std::cout << "\n";
  for (std::size_t i = 0; i < routes.size(); ++i) {
    std::cout << std::setw(int(w) + 2) << routes[i].name << std::setw(18) << routes[i].upstream->provider;
    for (const auto& d : grid[i]) std::cout << std::setw(8) << Short(d);
    std::cout << "\n";
  }
  std::cout << "Reasons for a route's plain request (column 1):\n";
  for (std::size_t i = 0; i < routes.size(); ++i) {
    std::cout << "  " << routes[i].name << ": ";
    if (grid[i][0].reasons.empty()) std::cout << "in scope";
    for (const auto& r : grid[i][0].reasons) std::cout << r << " ";
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

Command RegisterScope(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "scope", "Answer the five BAA questions offline, or print the coverage matrix.");
  sub->require_subcommand(1);
  auto f = std::make_shared<ScopeFlags>();
  CLI::App* check = sub->add_subcommand(
      "check",
      "Decide a request without sending it: prints the decision as JSON (each question with its "
      "reason codes, the rules used, enforcement actions, and the decision before enforcement). "
      "Exit 0 for allow or allow_deidentified, 3 for block, 1 for an error.");
  check->add_option("--request", f->request_path, "request body (JSON file, or - for stdin)")->required();
  check->add_option("--route", f->route, "route name (or a model the routes match)")->required();
  check->add_option("--config", f->config_path, "gateway configuration (default: embedded defaults)");
  check->add_option("--app", f->app, "app id whose policy applies (default: the only app)");
  check->add_option("--endpoint", f->endpoint,
                    "request shape: chat, embeddings, responses, messages, count_tokens")
      ->default_str("chat");
  check->add_option("--beta", f->beta, "anthropic-beta header value");
  check->add_option("--at", f->at, "decide as of this RFC 3339 UTC time (default: now)");
  CLI::App* matrix = sub->add_subcommand(
      "matrix", "Print the coverage matrix for the configured tenant: every route against the "
                "common features, each cell decided by the policy engine.");
  matrix->add_option("--config", f->config_path, "gateway configuration (default: embedded defaults)");
  matrix->add_option("--format", f->format, "table, json or html")->default_str("table");
  matrix->add_option("--app", f->app, "app id whose policy applies (default: the only app)");
  matrix->add_option("--at", f->at, "decide as of this RFC 3339 UTC time (default: now)");
  return [check, matrix, f]() -> int {
    if (check->parsed()) return Check(*f);
    if (matrix->parsed()) return Matrix(*f);
    return 2;
  };
}

}  // namespace baagate::cli
