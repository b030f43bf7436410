// application/vnd.amazon.eventstream: the binary framing of Bedrock's streaming responses.
// Format: docs/formats/event-stream.md. Pure: no I/O, no logging.
//
//   [total_length u32][headers_length u32][prelude_crc u32][headers][payload][message_crc u32]
//
// Decoder: incremental (bytes may arrive split anywhere), checks the prelude CRC before
// trusting the lengths, then the message CRC, and enforces the reference limits. The first
// framing error is sticky: a stream whose framing broke cannot be resynchronised safely.
// Not thread-safe; one decoder per stream.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace baagate::providers::bedrock {

inline constexpr std::size_t kEventStreamMaxMessage = 16u << 20;     // 16 MiB
inline constexpr std::size_t kEventStreamMaxHeaders = 128u << 10;    // 128 KiB
inline constexpr std::size_t kEventStreamMaxHeaderName = 127;
inline constexpr std::size_t kEventStreamMaxHeaderValue = 32767;
inline constexpr std::size_t kEventStreamMinMessage = 16;

enum class EventStreamValueType : std::uint8_t {
  kBoolTrue = 0,
  kBoolFalse = 1,
  kByte = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kBytes = 6,
  kString = 7,
  kTimestamp = 8,  // int64 milliseconds since the epoch
  kUuid = 9,
};

struct EventStreamHeader {
  std::string name;
  EventStreamValueType type = EventStreamValueType::kString;
  std::int64_t int_value = 0;       // kByte, kInt16, kInt32, kInt64, kTimestamp
  std::string bytes_value;          // kBytes, kString
  std::array<std::uint8_t, 16> uuid{};  // kUuid

  static EventStreamHeader String(std::string name, std::string value);
  bool bool_value() const { return type == EventStreamValueType::kBoolTrue; }
};

struct EventStreamMessage {
  std::vector<EventStreamHeader> headers;
  std::string payload;

  const EventStreamHeader* Find(std::string_view name) const;
  // Value of a string header, or "" when absent or of another type.
  std::string_view StringHeader(std::string_view name) const;
};

// IEEE CRC-32 (zlib's), continuing from `crc` (0 to start).
std::uint32_t Crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0);

// Encodes one message. Header names/values over the limits are the caller's bug: they are
// checked and reported as INVALID_ARGUMENT.
core::Result<std::string> EncodeEventStreamMessage(const EventStreamMessage& msg);

// A Bedrock event message: :message-type event, :event-type, :content-type application/json.
std::string EncodeBedrockEvent(std::string_view event_type, std::string_view json_payload);
// A Bedrock exception message: :message-type exception, :exception-type.
std::string EncodeBedrockException(std::string_view exception_type,
                                   std::string_view json_payload);

class EventStreamDecoder {
 public:
  explicit EventStreamDecoder(std::size_t max_message = kEventStreamMaxMessage)
      : max_message_(max_message) {}

  // Consumes `bytes`; appends every completed message to `out`. Errors:
  //   DATA_LOSS          prelude or message CRC mismatch
  //   RESOURCE_EXHAUSTED total or headers length above the limits
  //   INVALID_ARGUMENT   malformed lengths or headers
  // After an error every later call returns the same error.
  core::Status Feed(std::string_view bytes, std::vector<EventStreamMessage>* out);
  // Call at end of input: DATA_LOSS if a partial message is buffered (a truncated stream).
  core::Status Finish() const;
  std::size_t buffered() const { return buffer_.size() - offset_; }

 private:
  core::Status Fail(core::Status s);
  core::Status DecodeOne(const std::uint8_t* p, std::uint32_t total, std::uint32_t headers_len,
                         EventStreamMessage* msg) const;

  std::size_t max_message_;
  std::string buffer_;
  std::size_t offset_ = 0;  // start of the first unconsumed byte in buffer_
  core::Status error_;
};

}  // namespace baagate::providers::bedrock
