// The subcommands of the single `baagate` binary. Each Register* adds its subcommand to the
// CLI11 app and returns a function main() calls when that subcommand was chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

#include "config/config.h"
#include "core/status.h"
#include "http/asio.h"

namespace baagate::cli {

using Command = std::function<int()>;

Command RegisterServe(CLI::App& app);
Command RegisterFakeVendor(CLI::App& app);
Command RegisterKey(CLI::App& app);
Command RegisterConfig(CLI::App& app);
Command RegisterScope(CLI::App& app);
Command RegisterAudit(CLI::App& app);
// `scan`, `deid` and `eval` (one registration: they share input handling).
Command RegisterPhi(CLI::App& app);

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and the threads it starts later) so
// that only WaitForSignal sees them.
void BlockTerminationSignals();
// Waits for one of the blocked signals and returns its number.
int WaitForSignal();

// The socket address for a configured host:port. The host must be an IP literal or "localhost".
core::Result<http::tcp::endpoint> ToEndpoint(const config::HostPort& hp);

// "ip:port" ("[ip]:port" for IPv6), as logs and --ready-file report it.
std::string EndpointString(const http::tcp::endpoint& ep);

// Writes `content` to `path` atomically (temp file + rename), for --ready-file.
bool WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace baagate::cli
