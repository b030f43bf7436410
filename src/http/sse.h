// Server-sent events codec (WHATWG event-stream rules; docs/formats/sse.md).
//
// SseParser is incremental: bytes may be split anywhere (inside a UTF-8 sequence, between CR
// and LF). Each block ended by a blank line is reported with its exact raw bytes, so a relay
// can forward unchanged what it does not need to rewrite, and with the decoded fields, so it
// can read usage and errors. Not thread-safe; one per stream.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace baagate::http {

struct SseEvent {
  std::string event;    // "event:" field; empty means the default type "message"
  std::string data;     // "data:" lines joined with LF (no trailing LF)
  std::string id;       // last "id:" field seen in this block
  bool has_data = false;  // false for blocks of comments or fields without data: WHATWG does
                          // not dispatch those, but a relay still forwards their raw bytes
  std::string_view raw;   // the exact bytes of the block, blank line included; valid only
                          // during the callback
};

class SseParser {
 public:
  using Callback = std::function<void(const SseEvent&)>;

  // `max_event_bytes` bounds the memory one block may take (a stream that never sends a blank
  // line is an error, not an allocation).
  explicit SseParser(std::size_t max_event_bytes = 8u << 20) : max_event_bytes_(max_event_bytes) {}

  // Feeds bytes; calls `cb` for every completed block. Fails with kResourceExhausted when one
  // block exceeds max_event_bytes; the parser must not be used after a failure.
  core::Status Feed(std::string_view bytes, const Callback& cb);

  // Bytes of an unfinished block (the stream ended without its blank line if this is non-zero
  // at the end; WHATWG discards such a block).
  std::size_t pending_bytes() const { return raw_.size(); }

 private:
  void ProcessLine(std::string_view line);
  void Dispatch(const Callback& cb);

  std::size_t max_event_bytes_;
  std::string line_;  // the current incomplete line
  std::string raw_;   // raw bytes of the current block
  SseEvent current_;
  bool skip_lf_ = false;  // last byte was CR: a following LF belongs to it
  bool at_stream_start_ = true;  // a UTF-8 BOM here is skipped
};

// "data: <line>\n" for each line of `data`, then a blank line. With `event`, an "event:" line
// comes first.
std::string EncodeSseEvent(std::string_view data, std::string_view event = {});

}  // namespace baagate::http
