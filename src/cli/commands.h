// The subcommands of the single `baagate` binary. Each Register* adds its subcommand to the
// CLI11 app and returns a function main() calls when that subcommand was chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace baagate::cli {

using Command = std::function<int()>;

Command RegisterServe(CLI::App& app);
Command RegisterFakeVendor(CLI::App& app);
Command RegisterKey(CLI::App& app);
Command RegisterConfig(CLI::App& app);

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and the threads it starts later) so
// that only WaitForSignal sees them.
void BlockTerminationSignals();
// Waits for one of the blocked signals and returns its number.
int WaitForSignal();

// Writes `content` to `path` atomically (temp file + rename), for --ready-file.
bool WriteFileAtomically(const std::string& path, const std::string& content);

}  // namespace baagate::cli
