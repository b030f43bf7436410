// Structured JSON logs, one object per line on stderr.
//
// Hygiene contract: a log line holds only values that baagate itself produced or read from its
// configuration (ids, route names, status codes, durations, counts). Never pass a request or
// response body, a header value from a client, a vendor error message or a secret: there is no
// API that takes one implicitly, and reviewers should reject any Str() fed from client input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace baagate::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// Parses "debug" | "info" | "warn" | "error" | "off". Returns false on anything else.
bool ParseLogLevel(std::string_view s, LogLevel* out);

// Sets up the process logger: lines at or above `min_level`; `async` hands lines to a background
// thread that writes all lines queued since its last write in one write(2). Lines are never
// dropped: past 8 MiB queued, the caller waits. Call once at start.
void InitLogging(LogLevel min_level, bool async);
// Returns once every line emitted so far has been written. Safe to call more than once.
void ShutdownLogging();
bool LogEnabled(LogLevel level);

// Builds one log line. Usage:
//   LogLine(LogLevel::kInfo, "request").Str("request_id", id).Int("status", 200).Emit();
class LogLine {
 public:
  LogLine(LogLevel level, std::string_view event);
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Str(std::string_view key, std::string_view value);
  LogLine& Int(std::string_view key, std::int64_t value);
  LogLine& Uint(std::string_view key, std::uint64_t value);
  LogLine& Double(std::string_view key, double value);
  LogLine& Bool(std::string_view key, bool value);
  void Emit();

 private:
  void Key(std::string_view key);

  LogLevel level_;
  bool enabled_;
  std::string buf_;
};

// Appends `s` to `out` as a JSON string literal (quotes included). Invalid UTF-8 is replaced
// with U+FFFD so a log line is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace baagate::core
