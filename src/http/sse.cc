#include "http/sse.h"

namespace baagate::http {

void SseParser::ProcessLine(std::string_view line) {
  if (line.empty() || line.front() == ':') return;  // blank lines are handled by Feed; comments
  auto colon = line.find(':');
  std::string_view field = line.substr(0, colon);
  std::string_view value;
  if (colon != std::string_view::npos) {
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    if (current_.has_data) current_.data.push_back('\n');
    current_.data.append(value);
    current_.has_data = true;
  } else if (field == "event") {
    current_.event.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) current_.id.assign(value);
  }
  // "retry" and unknown fields are tolerated and ignored.
}

void SseParser::Dispatch(const Callback& cb) {
  current_.raw = raw_;
  cb(current_);
  current_.event.clear();
  current_.data.clear();
  current_.id.clear();
  current_.has_data = false;
  current_.raw = {};
  raw_.clear();
}

core::Status SseParser::Feed(std::string_view bytes, const Callback& cb) {
  std::size_t i = 0;
  if (at_stream_start_ && !bytes.empty()) {
    // Strip a UTF-8 BOM at the very start; it may arrive split, so wait for 3 bytes.
    static constexpr std::string_view kBom = "\xEF\xBB\xBF";
    std::string probe = line_ + std::string(bytes.substr(0, 3));
    if (probe.size() < 3 && kBom.substr(0, probe.size()) == probe) {
      line_ = probe;
      return core::Status::Ok();
    }
    at_stream_start_ = false;
    if (probe.substr(0, 3) == kBom) {
      std::size_t from_bytes = 3 - line_.size();
      line_.clear();
      i = from_bytes;
    } else if (!line_.empty()) {
      // Held-back bytes were not a BOM: they are the start of the first line.
      raw_ = line_;
    }
  }
  while (i < bytes.size()) {
    char c = bytes[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') {
        raw_.push_back(c);
        ++i;
        continue;
      }
    }
    // Copy the run up to the next line terminator in one go.
    std::size_t end = bytes.find_first_of("\r\n", i);
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(i));
      raw_.append(bytes.substr(i));
      if (raw_.size() > max_event_bytes_) {
        return core::ResourceExhaustedError("an event-stream block exceeds the size limit");
      }
      break;
    }
    line_.append(bytes.substr(i, end - i));
    raw_.append(bytes.substr(i, end - i + 1));
    if (bytes[end] == '\r') skip_lf_ = true;
    i = end + 1;
    if (raw_.size() > max_event_bytes_) {
      return core::ResourceExhaustedError("an event-stream block exceeds the size limit");
    }
    if (line_.empty()) {
      if (skip_lf_ && i < bytes.size() && bytes[i] == '\n') {
        raw_.push_back('\n');
        skip_lf_ = false;
        ++i;
      }
      Dispatch(cb);
    } else {
      ProcessLine(line_);
      line_.clear();
    }
  }
  return core::Status::Ok();
}

std::string EncodeSseEvent(std::string_view data, std::string_view event) {
  std::string out;
  out.reserve(data.size() + event.size() + 16);
  if (!event.empty()) {
    out += "event: ";
    out += event;
    out += '\n';
  }
  std::size_t start = 0;
  for (;;) {
    auto nl = data.find('\n', start);
    out += "data: ";
    out += data.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    out += '\n';
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  out += '\n';
  return out;
}

}  // namespace baagate::http
