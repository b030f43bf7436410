#include "config/yaml_reader.h"

#include <charconv>
#include <chrono>
#include <cstdio>

namespace baagate::config {

namespace {

bool ParseDigits(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ParseYmd(std::string_view s, std::chrono::year_month_day* out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int y, m, d;
  if (!ParseDigits(s.substr(0, 4), &y) || !ParseDigits(s.substr(5, 2), &m) ||
      !ParseDigits(s.substr(8, 2), &d)) {
    return false;
  }
  *out = std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{unsigned(m)},
                                     std::chrono::day{unsigned(d)}};
  return out->ok();
}

}  // namespace

bool IsValidDate(std::string_view ymd) {
  std::chrono::year_month_day d;
  return ParseYmd(ymd, &d);
}

bool ParseRfc3339Utc(std::string_view s, std::int64_t* epoch_seconds) {
  std::chrono::year_month_day d;
  if (s.size() < 20 || s.back() != 'Z' || (s[10] != 'T' && s[10] != 't') ||
      !ParseYmd(s.substr(0, 10), &d) || s[13] != ':' || s[16] != ':') {
    return false;
  }
  int hh, mm, ss;
  if (!ParseDigits(s.substr(11, 2), &hh) || !ParseDigits(s.substr(14, 2), &mm) ||
      !ParseDigits(s.substr(17, 2), &ss) || hh > 23 || mm > 59 || ss > 60) {
    return false;
  }
  std::string_view rest = s.substr(19, s.size() - 20);
  if (!rest.empty()) {
    if (rest.front() != '.' || rest.size() < 2 ||
        rest.substr(1).find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
  }
  auto days = std::chrono::sys_days(d).time_since_epoch().count();
  *epoch_seconds = static_cast<std::int64_t>(days) * 86400 + hh * 3600 + mm * 60 + ss;
  return true;
}

std::string DateOfEpoch(std::int64_t epoch_seconds) {
  std::int64_t days = epoch_seconds >= 0 ? epoch_seconds / 86400 : (epoch_seconds - 86399) / 86400;
  std::chrono::year_month_day d{std::chrono::sys_days{std::chrono::days{days}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()),
                unsigned(d.day()));
  return buf;
}

std::string YamlReader::Date(const YAML::Node& n, const std::string& path) const {
  std::string s = Str(n, path);
  if (!IsValidDate(s)) Fail(n, path, "must be a date YYYY-MM-DD");
  return s;
}

std::int64_t YamlReader::Timestamp(const YAML::Node& n, const std::string& path) const {
  std::int64_t t;
  if (!ParseRfc3339Utc(Str(n, path), &t)) {
    Fail(n, path, "must be an RFC 3339 UTC time like 2026-11-20T09:30:00Z");
  }
  return t;
}

}  // namespace baagate::config
