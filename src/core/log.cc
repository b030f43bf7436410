#include "core/log.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace baagate::core {

namespace {

// Writes whole lines to a file descriptor. Asynchronous mode hands lines to a writer thread
// that writes everything queued since its last write in one write(2), so a busy gateway makes
// a few large writes instead of one per line; an idle one still writes each line at once.
// Lines are never dropped: past kMaxQueuedBytes, producers wait.
class LogWriter {
 public:
  LogWriter(int fd, bool async) : fd_(fd) {
    if (async) thread_ = std::thread([this] { Run(); });
  }
  ~LogWriter() { Stop(); }

  void Write(std::string&& line) {
    if (!thread_.joinable()) {
      std::lock_guard<std::mutex> lock(mu_);
      WriteAll(line);
      return;
    }
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] { return queued_bytes_ < kMaxQueuedBytes || stop_; });
    queued_bytes_ += line.size();
    queue_.push_back(std::move(line));
    // Only an idle writer needs waking; a busy one collects this line with its next batch.
    // This keeps the per-line cost to a lock and a push, with no futex or thread switch.
    if (idle_) {
      idle_ = false;
      work_cv_.notify_one();
    } else if (queued_bytes_ >= kBatchBytes) {
      work_cv_.notify_one();
    }
  }

  // Returns once every line written before the call is out.
  void Flush() {
    if (!thread_.joinable()) return;
    std::unique_lock<std::mutex> lock(mu_);
    ++flush_waiters_;
    work_cv_.notify_one();
    drained_cv_.wait(lock, [&] { return (queue_.empty() && !writing_) || stop_; });
    --flush_waiters_;
  }

  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    work_cv_.notify_one();
    thread_.join();
  }

 private:
  static constexpr std::size_t kMaxQueuedBytes = 8u << 20;
  static constexpr std::size_t kBatchBytes = 64u << 10;  // write at once past this
  static constexpr std::chrono::milliseconds kCoalesce{2};  // a line waits at most this long

  void Run() {
    std::vector<std::string> batch;
    std::string out;
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (queue_.empty()) {
        idle_ = true;
        work_cv_.wait(lock, [&] { return !queue_.empty() || stop_; });
        idle_ = false;
      }
      if (queue_.empty() && stop_) break;
      // Let a burst gather for a moment, so one write carries many lines.
      work_cv_.wait_for(lock, kCoalesce, [&] {
        return queued_bytes_ >= kBatchBytes || flush_waiters_ > 0 || stop_;
      });
      batch.swap(queue_);
      queued_bytes_ = 0;
      writing_ = true;
      lock.unlock();
      space_cv_.notify_all();
      out.clear();
      for (const auto& line : batch) out += line;
      batch.clear();
      WriteAll(out);
      lock.lock();
      writing_ = false;
      if (queue_.empty()) drained_cv_.notify_all();
    }
    drained_cv_.notify_all();
  }

  void WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to log to; the request path must not fail for it
      data.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  const int fd_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable space_cv_;
  std::condition_variable drained_cv_;
  std::vector<std::string> queue_;  // mu_
  std::size_t queued_bytes_ = 0;    // mu_
  bool writing_ = false;            // mu_: a batch is being written
  bool idle_ = false;               // mu_: the writer waits for the first line of a batch
  int flush_waiters_ = 0;           // mu_: Flush() callers; they skip the coalescing wait
  bool stop_ = false;               // mu_
  std::thread thread_;
};

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
std::mutex g_mu;
// Every writer ever installed stays alive until exit, so a line being emitted on another thread
// during InitLogging never touches a freed writer. Guarded by g_mu.
std::vector<std::unique_ptr<LogWriter>>* g_writers = nullptr;
std::atomic<LogWriter*> g_writer{nullptr};  // the current writer, read without the lock

LogWriter* Writer() {
  LogWriter* w = g_writer.load(std::memory_order_acquire);
  if (w) return w;
  std::lock_guard<std::mutex> lock(g_mu);
  w = g_writer.load(std::memory_order_relaxed);
  if (!w) {
    if (!g_writers) g_writers = new std::vector<std::unique_ptr<LogWriter>>();
    g_writers->push_back(std::make_unique<LogWriter>(STDERR_FILENO, /*async=*/false));
    w = g_writers->back().get();
    g_writer.store(w, std::memory_order_release);
  }
  return w;
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
  if (LogWriter* old = g_writer.load(std::memory_order_relaxed)) old->Flush();
  if (!g_writers) g_writers = new std::vector<std::unique_ptr<LogWriter>>();
  g_writers->push_back(std::make_unique<LogWriter>(STDERR_FILENO, async));
  g_writer.store(g_writers->back().get(), std::memory_order_release);
}

void ShutdownLogging() {
  std::lock_guard<std::mutex> lock(g_mu);
  // The writer stays installed (a late line from another thread still goes out); this only
  // makes sure everything emitted so far has been written.
  if (LogWriter* w = g_writer.load(std::memory_order_relaxed)) w->Flush();
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
  // "YYYY-MM-DDTHH:MM:SS" changes once a second: format it once per second per thread.
  thread_local std::time_t cached_secs = -1;
  thread_local char cached_prefix[80];
  if (secs != cached_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::snprintf(cached_prefix, sizeof cached_prefix, "%04d-%02d-%02dT%02d:%02d:%02d",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_secs = secs;
  }
  char frac[8] = {'.', '0', '0', '0', '0', '0', '0', 'Z'};
  for (int i = 6; i >= 1 && micros > 0; --i, micros /= 10) {
    frac[i] = static_cast<char>('0' + micros % 10);
  }
  buf_ += "{\"ts\":\"";
  buf_ += cached_prefix;
  buf_.append(frac, sizeof frac);
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
  char tmp[64];
  auto res = std::to_chars(tmp, tmp + sizeof tmp, value, std::chars_format::fixed, 3);
  buf_.append(tmp, res.ec == std::errc() ? res.ptr : tmp);
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
  buf_ += "}\n";
  Writer()->Write(std::move(buf_));
  enabled_ = false;
}

}  // namespace baagate::core
