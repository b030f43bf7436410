#include "providers/bedrock/event_stream.h"

namespace baagate::providers::bedrock {

namespace {

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

std::uint32_t ReadU32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::uint64_t ReadBE(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

void AppendBE(std::string& out, std::uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

const std::uint8_t* U8(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

int FixedSize(EventStreamValueType t) {
  switch (t) {
    case EventStreamValueType::kBoolTrue:
    case EventStreamValueType::kBoolFalse: return 0;
    case EventStreamValueType::kByte: return 1;
    case EventStreamValueType::kInt16: return 2;
    case EventStreamValueType::kInt32: return 4;
    case EventStreamValueType::kInt64:
    case EventStreamValueType::kTimestamp: return 8;
    case EventStreamValueType::kUuid: return 16;
    case EventStreamValueType::kBytes:
    case EventStreamValueType::kString: return -1;
  }
  return -1;
}

// Sign-extends an n-byte big-endian two's complement value.
std::int64_t SignExtend(std::uint64_t v, int n) {
  if (n == 8) return static_cast<std::int64_t>(v);
  const std::uint64_t sign = std::uint64_t{1} << (8 * n - 1);
  return static_cast<std::int64_t>((v ^ sign) - sign);
}

core::Status ParseHeaders(const std::uint8_t* p, std::size_t len,
                          std::vector<EventStreamHeader>* out) {
  auto bad = [] { return core::InvalidArgumentError("event-stream: malformed headers"); };
  std::size_t i = 0;
  while (i < len) {
    const std::size_t name_len = p[i++];
    if (name_len == 0 || name_len > kEventStreamMaxHeaderName || i + name_len + 1 > len) {
      return bad();
    }
    EventStreamHeader h;
    h.name.assign(reinterpret_cast<const char*>(p + i), name_len);
    i += name_len;
    const std::uint8_t type = p[i++];
    if (type > 9) return bad();
    h.type = static_cast<EventStreamValueType>(type);
    const int fixed = FixedSize(h.type);
    if (fixed >= 0) {
      if (i + static_cast<std::size_t>(fixed) > len) return bad();
      if (h.type == EventStreamValueType::kUuid) {
        std::copy(p + i, p + i + 16, h.uuid.begin());
      } else if (fixed > 0) {
        h.int_value = SignExtend(ReadBE(p + i, fixed), fixed);
      }
      i += static_cast<std::size_t>(fixed);
    } else {
      if (i + 2 > len) return bad();
      const std::size_t vlen = ReadBE(p + i, 2);
      i += 2;
      if (vlen > kEventStreamMaxHeaderValue || i + vlen > len) return bad();
      h.bytes_value.assign(reinterpret_cast<const char*>(p + i), vlen);
      i += vlen;
    }
    out->push_back(std::move(h));
  }
  return core::Status::Ok();
}

}  // namespace

EventStreamHeader EventStreamHeader::String(std::string name, std::string value) {
  EventStreamHeader h;
  h.name = std::move(name);
  h.type = EventStreamValueType::kString;
  h.bytes_value = std::move(value);
  return h;
}

const EventStreamHeader* EventStreamMessage::Find(std::string_view name) const {
  for (const auto& h : headers) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

std::string_view EventStreamMessage::StringHeader(std::string_view name) const {
  const EventStreamHeader* h = Find(name);
  if (h == nullptr || h->type != EventStreamValueType::kString) return {};
  return h->bytes_value;
}

std::uint32_t Crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc) {
  crc = ~crc;
  for (std::size_t i = 0; i < size; ++i) crc = kCrcTable[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

core::Result<std::string> EncodeEventStreamMessage(const EventStreamMessage& msg) {
  std::string headers;
  for (const auto& h : msg.headers) {
    if (h.name.empty() || h.name.size() > kEventStreamMaxHeaderName) {
      return core::InvalidArgumentError("event-stream: header name length");
    }
    headers.push_back(static_cast<char>(h.name.size()));
    headers += h.name;
    headers.push_back(static_cast<char>(h.type));
    const int fixed = FixedSize(h.type);
    if (h.type == EventStreamValueType::kUuid) {
      headers.append(reinterpret_cast<const char*>(h.uuid.data()), h.uuid.size());
    } else if (fixed > 0) {
      AppendBE(headers, static_cast<std::uint64_t>(h.int_value), fixed);
    } else if (fixed < 0) {
      if (h.bytes_value.size() > kEventStreamMaxHeaderValue) {
        return core::InvalidArgumentError("event-stream: header value length");
      }
      AppendBE(headers, h.bytes_value.size(), 2);
      headers += h.bytes_value;
    }
  }
  const std::size_t total = 16 + headers.size() + msg.payload.size();
  if (headers.size() > kEventStreamMaxHeaders || total > kEventStreamMaxMessage) {
    return core::InvalidArgumentError("event-stream: message too large");
  }
  std::string out;
  out.reserve(total);
  AppendBE(out, total, 4);
  AppendBE(out, headers.size(), 4);
  AppendBE(out, Crc32(U8(out), 8), 4);
  out += headers;
  out += msg.payload;
  AppendBE(out, Crc32(U8(out), out.size()), 4);
  return out;
}

namespace {
std::string EncodeTyped(std::string_view kind_header, std::string_view kind,
                        std::string_view message_type, std::string_view payload) {
  EventStreamMessage m;
  m.headers.push_back(EventStreamHeader::String(std::string(kind_header), std::string(kind)));
  m.headers.push_back(EventStreamHeader::String(":content-type", "application/json"));
  m.headers.push_back(EventStreamHeader::String(":message-type", std::string(message_type)));
  m.payload = std::string(payload);
  auto enc = EncodeEventStreamMessage(m);
  return enc.ok() ? std::move(enc).value() : std::string();
}
}  // namespace

std::string EncodeBedrockEvent(std::string_view event_type, std::string_view json_payload) {
  return EncodeTyped(":event-type", event_type, "event", json_payload);
}

std::string EncodeBedrockException(std::string_view exception_type,
                                   std::string_view json_payload) {
  return EncodeTyped(":exception-type", exception_type, "exception", json_payload);
}

core::Status EventStreamDecoder::Fail(core::Status s) {
  error_ = s;
  return s;
}

core::Status EventStreamDecoder::DecodeOne(const std::uint8_t* p, std::uint32_t total,
                                           std::uint32_t headers_len,
                                           EventStreamMessage* msg) const {
  const std::uint32_t expected = ReadU32(p + total - 4);
  if (Crc32(p, total - 4) != expected) {
    return core::Status(core::StatusCode::kDataLoss, "event-stream: message CRC mismatch");
  }
  core::Status st = ParseHeaders(p + 12, headers_len, &msg->headers);
  if (!st.ok()) return st;
  msg->payload.assign(reinterpret_cast<const char*>(p + 12 + headers_len),
                      total - 16 - headers_len);
  return core::Status::Ok();
}

core::Status EventStreamDecoder::Feed(std::string_view bytes,
                                      std::vector<EventStreamMessage>* out) {
  if (!error_.ok()) return error_;
  buffer_.append(bytes.data(), bytes.size());
  while (buffer_.size() - offset_ >= 12) {
    const std::uint8_t* p = U8(buffer_) + offset_;
    const std::uint32_t total = ReadU32(p);
    const std::uint32_t headers_len = ReadU32(p + 4);
    if (Crc32(p, 8) != ReadU32(p + 8)) {
      return Fail(core::Status(core::StatusCode::kDataLoss, "event-stream: prelude CRC mismatch"));
    }
    if (total < kEventStreamMinMessage || headers_len > total - kEventStreamMinMessage) {
      return Fail(core::InvalidArgumentError("event-stream: inconsistent lengths"));
    }
    if (total > max_message_ || headers_len > kEventStreamMaxHeaders) {
      return Fail(core::ResourceExhaustedError("event-stream: message over the size limit"));
    }
    if (buffer_.size() - offset_ < total) break;
    EventStreamMessage msg;
    core::Status st = DecodeOne(p, total, headers_len, &msg);
    if (!st.ok()) return Fail(st);
    out->push_back(std::move(msg));
    offset_ += total;
  }
  // Compact once the consumed prefix dominates, so long streams do not grow the buffer.
  if (offset_ > 0 && offset_ * 2 >= buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return core::Status::Ok();
}

core::Status EventStreamDecoder::Finish() const {
  if (!error_.ok()) return error_;
  if (buffer_.size() != offset_) {
    return core::Status(core::StatusCode::kDataLoss, "event-stream: truncated message");
  }
  return core::Status::Ok();
}

}  // namespace baagate::providers::bedrock
