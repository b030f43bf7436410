// `baagate serve`: the gateway.
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>
#include <tuple>

#include "admin/admin_handler.h"
#include "admin/metrics.h"
#include "audit/audit_log.h"
#include "pipeline/audit_stage.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/phi_options.h"
#include "core/log.h"
#include "http/server.h"
#include "http/tls.h"
#include "phi/detector.h"
#include "pipeline/gateway.h"
#include "pipeline/snapshot.h"
#include "providers/anthropic/anthropic.h"
#include "providers/openai/openai.h"

namespace baagate::cli {

namespace {

using core::LogLevel;
using core::LogLine;

struct ServeFlags {
  std::string config_path;
  std::string listen;
  std::string admin_listen;
  int workers = -1;
  std::string ready_file;
};

core::Result<config::Config> Load(const ServeFlags& f) {
  auto cfg = f.config_path.empty()
                 ? config::ParseConfig(config::EmbeddedDefaultYaml(), "<embedded defaults>")
                 : config::LoadConfigFile(f.config_path);
  if (!cfg.ok()) return cfg;
  // Command-line overrides, validated like the file's values.
  for (auto [flag, value, out] : {std::tuple{"--listen", &f.listen, &cfg->server.listen},
                                  std::tuple{"--admin-listen", &f.admin_listen,
                                             &cfg->server.admin_listen}}) {
    if (value->empty()) continue;
    auto hp = config::ParseHostPort(*value);
    if (!hp.ok()) return core::InvalidArgumentError(std::string(flag) + ": " + hp.status().message());
    *out = *hp;
  }
  if (f.workers >= 0) cfg->server.workers = f.workers;
  return cfg;
}

// Records the effective configuration (hash, registry version, drift) in the log and metrics.
void AnnounceConfig(const pipeline::Snapshot& snap, admin::Metrics& metrics, const char* event) {
  const policy::PolicySet& p = snap.policy();
  metrics.SetConfigInfo(p.config_hash(), p.registry().sha256, snap.drift());
  LogLine line(snap.drift() ? LogLevel::kWarn : LogLevel::kInfo, event);
  line.Str("config_hash", p.config_hash())
      .Str("registry_version", p.registry().sha256)
      .Str("registry_label", p.registry().version_label)
      .Bool("drift", snap.drift());
  if (snap.drift()) {
    line.Str("baseline_hash", snap.config().policy.baseline_hash)
        .Str("detail", "the effective configuration differs from the approved baseline; see "
                       "`baagate config diff`");
  }
  line.Emit();
}

void WarnAboutSnapshot(const pipeline::Snapshot& snap) {
  if (!snap.has_keys()) {
    LogLine(LogLevel::kWarn, "no_gateway_keys")
        .Str("detail", "no keys configured: every request is refused with 401; add keys "
                       "(see `baagate key generate`)")
        .Emit();
  }
  for (const auto& u : snap.upstreams()) {
    if (!u->credential_problem.empty()) {
      LogLine(LogLevel::kWarn, "upstream_credential_missing")
          .Str("upstream", u->target.name)
          .Str("detail", u->credential_problem)
          .Emit();
    }
  }
}

// The PHI detector for de-identified fallback routes, with the deployment's lists. Errors name
// a file or a pattern, never a list entry.
core::Result<std::shared_ptr<const phi::Detector>> MakeDeidentifier(const config::PhiConfig& phi) {
  auto start = std::chrono::steady_clock::now();
  auto detector = config::MakeDetector(phi);
  if (!detector.ok()) return detector.status();
  LogLine(LogLevel::kInfo, "deidentifier_ready")
      .Double("load_ms",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                  .count())
      .Bool("precompiled", (*detector)->precompiled())
      .Uint("roster_names", (*detector)->dictionaries().roster_phrases().size())
      .Uint("patterns", phi.patterns.size())
      .Emit();
  return detector;
}

int RunServe(const ServeFlags& flags) {
  BlockTerminationSignals();
  auto cfg = Load(flags);
  if (!cfg.ok()) {
    std::cerr << "baagate serve: " << cfg.status().message() << "\n";
    return 1;
  }
  core::InitLogging(cfg->log.level, /*async=*/true);
  auto snap = pipeline::Snapshot::Build(*cfg);
  if (!snap.ok()) {
    std::cerr << "baagate serve: " << snap.status().message() << "\n";
    return 1;
  }
  WarnAboutSnapshot(**snap);

  http::ServerOptions gopts;
  gopts.name = "gateway";
  auto listen_ep = ToEndpoint(cfg->server.listen);
  if (!listen_ep.ok()) {
    std::cerr << "baagate serve: server.listen: " << listen_ep.status().message() << "\n";
    return 1;
  }
  gopts.endpoint = *listen_ep;
  gopts.workers = cfg->server.workers > 0 ? cfg->server.workers
                                          : std::max(1u, std::thread::hardware_concurrency());
  gopts.limits = pipeline::ServerLimitsFromConfig(cfg->server.limits);
  gopts.json_error_body = &providers::anthropic::ErrorJsonForPath;
  if (!cfg->server.tls_cert_file.empty()) {
    auto ctx = http::MakeServerTlsContext(cfg->server.tls_cert_file, cfg->server.tls_key_file);
    if (!ctx.ok()) {
      std::cerr << "baagate serve: server.tls: " << ctx.status().message() << "\n";
      return 1;
    }
    gopts.tls = *ctx;
  }

  // The audit log opens before the gateway and closes after it (final signed checkpoint).
  std::unique_ptr<audit::AuditLog> audit_log;
  if (cfg->audit.enabled) {
    auto opened = pipeline::OpenAuditLog(cfg->audit);
    if (!opened.ok()) {
      std::cerr << "baagate serve: audit: " << opened.status().message()
                << " (the gateway refuses to run without its audit log; set audit.enabled: false "
                   "to run without one)\n";
      return 1;
    }
    audit_log = std::move(opened).value();
    core::LogLine(core::LogLevel::kInfo, "audit_open")
        .Str("log_id", audit_log->log_id())
        .Str("store", cfg->audit.store.rfind("sqlite:", 0) == 0 ? cfg->audit.store : "postgres")
        .Str("public_key", cfg->audit.key_file + ".pub")
        .Str("durability", cfg->audit.strict ? "strict" : "default")
        .Emit();
  } else {
    core::LogLine(core::LogLevel::kWarn, "audit_disabled").Emit();
  }

  admin::Metrics metrics;
  admin::AdminState admin_state;
  pipeline::Gateway gateway(*snap, metrics, audit_log.get());
  {
    auto detector = MakeDeidentifier(cfg->phi);
    if (detector.ok()) {
      gateway.SetDeidentifier(*detector);
    } else if (cfg->phi.HasLists()) {
      // The deployment's lists and patterns are configuration: one that cannot be read or
      // compiled stops the gateway rather than leave it running with a weaker detector.
      std::cerr << "baagate serve: phi: " << detector.status().message() << "\n";
      return 1;
    } else {
      // Without a detector, de-identified fallback calls are refused (fail closed);
      // everything else still works.
      LogLine(LogLevel::kError, "deidentifier_unavailable")
          .Str("detail", "de-identified fallback calls will be refused")
          .Str("error", detector.status().message())
          .Emit();
    }
  }
  AnnounceConfig(**snap, metrics, "config_effective");
  http::Server server(gopts, [&](http::Worker& w) { return gateway.MakeHandler(w); });
  if (auto st = server.Start(); !st.ok()) {
    std::cerr << "baagate serve: " << st.message() << "\n";
    return 1;
  }

  http::ServerOptions aopts;
  aopts.name = "admin";
  auto admin_ep = ToEndpoint(cfg->server.admin_listen);
  if (!admin_ep.ok()) {
    std::cerr << "baagate serve: server.admin_listen: " << admin_ep.status().message() << "\n";
    return 1;
  }
  aopts.endpoint = *admin_ep;
  aopts.workers = 1;
  http::Server admin_server(aopts, [&](http::Worker&) {
    return admin::MakeAdminHandler(metrics, admin_state);
  });
  if (auto st = admin_server.Start(); !st.ok()) {
    std::cerr << "baagate serve: admin: " << st.message() << "\n";
    server.Stop();
    return 1;
  }
  admin_state.ready = true;

  std::string listen = EndpointString(server.local_endpoint());
  std::string admin_listen = EndpointString(admin_server.local_endpoint());
  LogLine(LogLevel::kInfo, "started")
      .Str("listen", listen)
      .Str("admin_listen", admin_listen)
      .Int("workers", gopts.workers)
      .Bool("tls", gopts.tls != nullptr)
      .Str("config", cfg->source)
      .Uint("routes", (*snap)->routes().size())
      .Emit();
  if (!flags.ready_file.empty() &&
      !WriteFileAtomically(flags.ready_file, "{\"listen\":\"" + listen + "\",\"admin_listen\":\"" +
                                                 admin_listen + "\"}\n")) {
    std::cerr << "baagate serve: cannot write --ready-file " << flags.ready_file << "\n";
  }

  for (;;) {
    int sig = WaitForSignal();
    if (sig == SIGHUP) {
      if (flags.config_path.empty()) {
        LogLine(LogLevel::kInfo, "config_reload_skipped")
            .Str("detail", "running on embedded defaults; nothing to reload")
            .Emit();
        continue;
      }
      auto next = Load(flags);
      core::Status st = next.ok() ? core::Status::Ok() : next.status();
      std::shared_ptr<const pipeline::Snapshot> next_snap;
      if (st.ok()) {
        auto built = pipeline::Snapshot::Build(*next);
        if (built.ok()) {
          next_snap = *built;
        } else {
          st = built.status();
        }
      }
      // The deployment lists are re-read on every reload (a roster file may have changed even
      // when the configuration did not); if they cannot be loaded the reload fails as a whole.
      std::shared_ptr<const phi::Detector> next_detector;
      if (st.ok()) {
        auto made = MakeDeidentifier(next->phi);
        if (made.ok()) {
          next_detector = *made;
        } else {
          st = core::InvalidArgumentError("phi: " + made.status().message());
        }
      }
      if (!st.ok()) {
        // The message names file, line and key; configuration text, never request data.
        LogLine(LogLevel::kError, "config_reload_failed").Str("error", st.message()).Emit();
        continue;
      }
      if (next->server.listen.ToString() != cfg->server.listen.ToString() ||
          next->server.admin_listen.ToString() != cfg->server.admin_listen.ToString()) {
        LogLine(LogLevel::kWarn, "config_reload_partial")
            .Str("detail", "listen addresses change only on restart")
            .Emit();
      }
      WarnAboutSnapshot(*next_snap);
      gateway.SetDeidentifier(next_detector);
      gateway.Swap(next_snap);
      AnnounceConfig(*next_snap, metrics, "config_effective");
      LogLine(LogLevel::kInfo, "config_reloaded")
          .Uint("routes", next_snap->routes().size())
          .Emit();
      continue;
    }
    LogLine(LogLevel::kInfo, "draining")
        .Str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT")
        .Uint("connections", server.active_connections())
        .Emit();
    admin_state.draining = true;
    server.Drain();
    admin_server.Stop();
    LogLine(LogLevel::kInfo, "stopped").Emit();
    core::ShutdownLogging();
    return 0;
  }
}

}  // namespace

Command RegisterServe(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* sub = app.add_subcommand(
      "serve",
      "Run the gateway. Without --config it starts on embedded defaults: 127.0.0.1:8080, admin "
      "on 127.0.0.1:8081, routes to the OpenAI API with OPENAI_API_KEY, and no gateway keys "
      "(every request refused until keys are configured). SIGHUP reloads --config; SIGTERM "
      "drains in-flight requests and exits.");
  sub->add_option("-c,--config", flags->config_path, "YAML configuration file")
      ->check(CLI::ExistingFile);
  sub->add_option("--listen", flags->listen, "override server.listen (host:port; port 0 picks one)");
  sub->add_option("--admin-listen", flags->admin_listen, "override server.admin_listen");
  sub->add_option("--workers", flags->workers, "override server.workers (0 = one per core)")
      ->check(CLI::Range(0, 256));
  sub->add_option("--ready-file", flags->ready_file,
                  "write {\"listen\":…,\"admin_listen\":…} here once listening (for scripts "
                  "and tests that use port 0)");
  return [flags] { return RunServe(*flags); };
}

}  // namespace baagate::cli
