#include "core/log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

namespace baagate::core {

namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;  // guarded by g_mu for (re)initialisation
// Every logger ever installed stays alive until exit, so a line being emitted on another thread
// during InitLogging never touches a freed logger. Guarded by g_mu.
std::vector<std::shared_ptr<spdlog::logger>>* g_retired = nullptr;
std::atomic<spdlog::logger*> g_fast{nullptr};  // the current logger, read without the lock

void InstallLocked(std::shared_ptr<spdlog::logger> logger) {
  logger->set_pattern("%v");
  logger->set_level(spdlog::level::trace);
  if (g_logger) {
    g_logger->flush();
    if (!g_retired) g_retired = new std::vector<std::shared_ptr<spdlog::logger>>();
    g_retired->push_back(g_logger);
  }
  g_logger = std::move(logger);
  g_fast.store(g_logger.get(), std::memory_order_release);
}

spdlog::logger* Logger() {
  spdlog::logger* fast = g_fast.load(std::memory_order_acquire);
  if (fast) return fast;
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_logger) {
    InstallLocked(std::make_shared<spdlog::logger>(
        "baagate", std::make_shared<spdlog::sinks::stderr_sink_mt>()));
  }
  return g_logger.get();
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "info";
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len;
  std::uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) { len = 2; min = 0x80; }
  else if ((c & 0xf0) == 0xe0) { len = 3; min = 0x800; }
  else if ((c & 0xf8) == 0xf0) { len = 4; min = 0x10000; }
  else return 0;
  if (i + len > s.size()) return 0;
  std::uint32_t cp = c & (0x7f >> len);
  for (std::size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

}  // namespace

bool ParseLogLevel(std::string_view s, LogLevel* out) {
  for (LogLevel l : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError,
                     LogLevel::kOff}) {
    if (s == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

void InitLogging(LogLevel min_level, bool async) {
  g_min_level.store(static_cast<int>(min_level), std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(g_mu);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (async) {
    if (!spdlog::thread_pool()) spdlog::init_thread_pool(16384, 1);
    InstallLocked(std::make_shared<spdlog::async_logger>(
        "baagate", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block));
  } else {
    InstallLocked(std::make_shared<spdlog::logger>("baagate", sink));
    g_logger->flush_on(spdlog::level::trace);
  }
}

void ShutdownLogging() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_logger) g_logger->flush();
  // An async logger's queue is drained by flush(); the thread pool stays until exit so that a
  // late line from another thread still has somewhere to go.
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_min_level.load(std::memory_order_relaxed) &&
         level != LogLevel::kOff;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = Utf8SequenceLength(s, i);
      if (n == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(s.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

LogLine::LogLine(LogLevel level, std::string_view event)
    : level_(level), enabled_(LogEnabled(level)) {
  if (!enabled_) return;
  buf_.reserve(256);
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[64];
  std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  buf_ += "{\"ts\":\"";
  buf_ += ts;
  buf_ += "\",\"level\":\"";
  buf_ += LevelName(level);
  buf_ += "\",\"event\":";
  AppendJsonString(buf_, event);
}

void LogLine::Key(std::string_view key) {
  buf_.push_back(',');
  AppendJsonString(buf_, key);
  buf_.push_back(':');
}

LogLine& LogLine::Str(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  Key(key);
  AppendJsonString(buf_, value);
  return *this;
}

LogLine& LogLine::Int(std::string_view key, std::int64_t value) {
  if (!enabled_) return *this;
  Key(key);
  buf_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::Uint(std::string_view key, std::uint64_t value) {
  if (!enabled_) return *this;
  Key(key);
  buf_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::Double(std::string_view key, double value) {
  if (!enabled_) return *this;
  Key(key);
  char tmp[32];
  std::snprintf(tmp, sizeof tmp, "%.3f", value);
  buf_ += tmp;
  return *this;
}

LogLine& LogLine::Bool(std::string_view key, bool value) {
  if (!enabled_) return *this;
  Key(key);
  buf_ += value ? "true" : "false";
  return *this;
}

void LogLine::Emit() {
  if (!enabled_) return;
  buf_.push_back('}');
  Logger()->log(spdlog::level::info, spdlog::string_view_t(buf_.data(), buf_.size()));
  enabled_ = false;
}

}  // namespace baagate::core
