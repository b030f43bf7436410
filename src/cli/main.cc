// baagate: a HIPAA-aware AI inference gateway. One binary, several subcommands.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>
#include <pthread.h>

#include "cli/commands.h"

namespace baagate::cli {

namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int WaitForSignal() {
  sigset_t set = TerminationSignals();
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  return sig;
}

core::Result<http::tcp::endpoint> ToEndpoint(const config::HostPort& hp) {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(hp.host == "localhost" ? "127.0.0.1" : hp.host, ec);
  if (ec) {
    return core::InvalidArgumentError("listen address must be an IP address (or localhost): " +
                                      hp.host);
  }
  return http::tcp::endpoint(addr, hp.port);
}

std::string EndpointString(const http::tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

bool WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << content;
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace baagate::cli

int main(int argc, char** argv) {
  CLI::App app{
      "baagate: a HIPAA-aware AI inference gateway. Point your OpenAI SDK's base URL at it.\n"
      "Run `baagate <command> --help` for a command's options."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "baagate 0.1.0");
  const std::vector<std::pair<std::string, baagate::cli::Command>> commands = {
      {"serve", baagate::cli::RegisterServe(app)},
      {"fake-vendor", baagate::cli::RegisterFakeVendor(app)},
      {"key", baagate::cli::RegisterKey(app)},
      {"config", baagate::cli::RegisterConfig(app)},
      {"scope", baagate::cli::RegisterScope(app)},
      {"audit", baagate::cli::RegisterAudit(app)},
      {"phi", baagate::cli::RegisterPhi(app)},
  };
  CLI11_PARSE(app, argc, argv);
  for (const auto& [name, cmd] : commands) {
    if (name == "phi") {
      if (app.got_subcommand("scan") || app.got_subcommand("deid") || app.got_subcommand("eval")) {
        return cmd();
      }
      continue;
    }
    if (app.got_subcommand(name)) return cmd();
  }
  return 2;
}
