// `baagate fake-vendor`: the local fake of the vendors' APIs.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/log.h"
#include "fake_vendor/fake_vendor.h"
#include "http/server.h"
#include "http/tls.h"
#include "providers/anthropic/anthropic.h"
#include "providers/openai/openai.h"

namespace baagate::cli {

namespace {

struct FakeFlags {
  std::string listen = "127.0.0.1:9090";
  fake_vendor::Options options;
  std::string api_key_env;
  std::string tls_cert;
  std::string tls_key;
  int workers = 1;
  std::string ready_file;
  bool aws_from_env = false;
};

int RunFake(FakeFlags& f) {
  BlockTerminationSignals();
  core::InitLogging(core::LogLevel::kInfo, false);
  if (!f.api_key_env.empty()) {
    const char* v = std::getenv(f.api_key_env.c_str());
    if (!v || !*v) {
      std::cerr << "baagate fake-vendor: environment variable " << f.api_key_env << " is not set\n";
      return 1;
    }
    f.options.api_key = v;
  }
  if (f.aws_from_env) {
    const char* id = std::getenv("AWS_ACCESS_KEY_ID");
    const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
    if (!id || !*id || !secret || !*secret) {
      std::cerr << "baagate fake-vendor: --aws-credentials-from-env needs AWS_ACCESS_KEY_ID and "
                   "AWS_SECRET_ACCESS_KEY\n";
      return 1;
    }
    f.options.aws_access_key_id = id;
    f.options.aws_secret_access_key = secret;
  }
  auto hp = config::ParseHostPort(f.listen);
  auto endpoint = hp.ok() ? ToEndpoint(*hp) : core::Result<http::tcp::endpoint>(hp.status());
  if (!endpoint.ok()) {
    std::cerr << "baagate fake-vendor: --listen: " << endpoint.status().message() << "\n";
    return 1;
  }
  http::ServerOptions opts;
  opts.name = "fake-vendor";
  opts.endpoint = *endpoint;
  opts.workers = f.workers;
  opts.limits.max_body_bytes = 64u << 20;
  opts.json_error_body = &providers::anthropic::ErrorJsonForPath;
  if (!f.tls_cert.empty()) {
    auto ctx = http::MakeServerTlsContext(f.tls_cert, f.tls_key);
    if (!ctx.ok()) {
      std::cerr << "baagate fake-vendor: " << ctx.status().message() << "\n";
      return 1;
    }
    opts.tls = *ctx;
  }
  fake_vendor::FakeVendor vendor(f.options);
  http::Server server(opts, [&](http::Worker& w) { return vendor.MakeHandler(w); });
  if (auto st = server.Start(); !st.ok()) {
    std::cerr << "baagate fake-vendor: " << st.message() << "\n";
    return 1;
  }
  std::string listen = EndpointString(server.local_endpoint());
  core::LogLine(core::LogLevel::kInfo, "fake_vendor_started")
      .Str("listen", listen)
      .Bool("tls", opts.tls != nullptr)
      .Emit();
  if (!f.ready_file.empty()) {
    WriteFileAtomically(f.ready_file, "{\"listen\":\"" + listen + "\"}\n");
  }
  for (;;) {
    int sig = WaitForSignal();
    if (sig == SIGHUP) continue;
    server.Stop();
    return 0;
  }
}

}  // namespace

Command RegisterFakeVendor(CLI::App& app) {
  auto f = std::make_shared<FakeFlags>();
  CLI::App* sub = app.add_subcommand(
      "fake-vendor",
      "Run a local fake of the OpenAI API, the Anthropic Messages API and the Bedrock runtime "
      "(InvokeModel, Converse) for tests, benchmarks and the offline quickstart. "
      "Answers echo what they received (\"ECHO: <last user message>\"); GET /_fake/requests "
      "shows every request as received. Faults per request with markers in the last user "
      "message: [[fake:429]] [[fake:500]] [[fake:400]] [[fake:timeout]] "
      "[[fake:reset-mid-stream]] [[fake:malformed-sse]] [[fake:error-event]] "
      "[[fake:truncate-stream]] [[fake:bad-json]] [[fake:latency=MS]] [[fake:chunk-delay=MS]].");
  sub->add_option("--listen", f->listen, "IP:port to listen on (port 0 picks one)")
      ->capture_default_str();
  sub->add_option("--api-key", f->options.api_key,
                  "require 'Authorization: Bearer <key>' (as the real API does)");
  sub->add_option("--api-key-env", f->api_key_env, "like --api-key, read from this variable");
  sub->add_flag("--aws-credentials-from-env", f->aws_from_env,
               "verify SigV4 on Bedrock paths with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY");
  sub->add_option("--latency-ms", f->options.latency_ms, "delay before every response head");
  sub->add_option("--chunk-delay-ms", f->options.chunk_delay_ms, "delay between stream chunks");
  sub->add_option("--fault-rate-429", f->options.fault_rate_429, "probability of a 429")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--fault-rate-500", f->options.fault_rate_500, "probability of a 500")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--tls-cert", f->tls_cert, "serve HTTPS with this certificate chain (PEM)");
  sub->add_option("--tls-key", f->tls_key, "private key for --tls-cert (PEM)");
  sub->add_option("--workers", f->workers, "worker threads")->capture_default_str();
  sub->add_option("--ready-file", f->ready_file, "write {\"listen\":…} here once listening");
  return [f] { return RunFake(*f); };
}

}  // namespace baagate::cli
