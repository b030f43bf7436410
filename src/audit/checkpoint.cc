#include "audit/checkpoint.h"

#include <sodium.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "audit/chain.h"
#include "audit/record.h"

namespace baagate::audit {

namespace {

constexpr std::string_view kEmDash = "\xe2\x80\x94";  // U+2014
constexpr std::uint8_t kAlgEd25519 = 0x01;

bool SodiumReady() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

std::uint32_t KeyHash(std::string_view name, const std::array<std::uint8_t, 32>& pk) {
  std::string msg(name);
  msg.push_back('\n');
  msg.push_back(static_cast<char>(kAlgEd25519));
  msg.append(reinterpret_cast<const char*>(pk.data()), pk.size());
  auto h = core::Sha256(msg);
  return std::uint32_t{h[0]} << 24 | std::uint32_t{h[1]} << 16 | std::uint32_t{h[2]} << 8 | h[3];
}

std::string Hex8(std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", v);
  return buf;
}

bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c == '+' || static_cast<unsigned char>(c) <= 0x20) return false;
  }
  return true;
}

std::string ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  *ok = static_cast<bool>(in) || in.eof();
  if (!in.is_open()) *ok = false;
  return ss.str();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string Base64(const std::uint8_t* data, std::size_t n) {
  std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, n, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::string Checkpoint::Body() const {
  std::string b = origin + "\n" + std::to_string(tree_size) + "\n" +
                  Base64(root.data(), root.size()) + "\n";
  b += "chain " + Base64(chain_head.data(), chain_head.size()) + "\n";
  b += "ts " + FormatTimestampMs(ts_ms) + "\n";
  return b;
}

core::Result<PublicKey> PublicKey::Parse(std::string_view text) {
  text = Trim(text);
  auto p1 = text.find('+');
  auto p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return core::InvalidArgumentError("audit key: malformed");
  PublicKey k;
  k.name_ = std::string(text.substr(0, p1));
  auto raw = Base64Decode(text.substr(p2 + 1));
  if (!ValidKeyName(k.name_) || !raw || raw->size() != 33 ||
      static_cast<std::uint8_t>((*raw)[0]) != kAlgEd25519) {
    return core::InvalidArgumentError("audit key: not an Ed25519 verifier key");
  }
  std::memcpy(k.pk_.data(), raw->data() + 1, 32);
  k.key_hash_ = KeyHash(k.name_, k.pk_);
  if (Hex8(k.key_hash_) != text.substr(p1 + 1, p2 - p1 - 1)) {
    return core::InvalidArgumentError("audit key: key hash does not match the key");
  }
  return k;
}

core::Result<PublicKey> PublicKey::Load(const std::string& path) {
  bool ok = false;
  std::string text = ReadFile(path, &ok);
  if (!ok) return core::NotFoundError("audit key: cannot read " + path);
  return Parse(text);
}

std::string PublicKey::ToString() const {
  std::uint8_t raw[33];
  raw[0] = kAlgEd25519;
  std::memcpy(raw + 1, pk_.data(), 32);
  return name_ + "+" + Hex8(key_hash_) + "+" + Base64(raw, sizeof raw);
}

bool PublicKey::Verify(std::string_view message, const std::uint8_t* sig64) const {
  if (!SodiumReady()) return false;
  return crypto_sign_verify_detached(sig64, reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), pk_.data()) == 0;
}

SigningKey::SigningKey(SigningKey&& o) noexcept : pub_(o.pub_), sk_(o.sk_) {
  sodium_memzero(o.sk_.data(), o.sk_.size());
}

SigningKey::~SigningKey() { sodium_memzero(sk_.data(), sk_.size()); }

core::Result<SigningKey> SigningKey::Generate(std::string_view name) {
  if (!SodiumReady()) return core::InternalError("audit key: libsodium failed to initialise");
  if (!ValidKeyName(name)) return core::InvalidArgumentError("audit key: invalid key name");
  SigningKey k;
  std::uint8_t seed[32];
  core::SecureRandomBytes(seed, sizeof seed);
  crypto_sign_seed_keypair(k.pub_.pk_.data(), k.sk_.data(), seed);
  sodium_memzero(seed, sizeof seed);
  k.pub_.name_ = std::string(name);
  k.pub_.key_hash_ = KeyHash(name, k.pub_.pk_);
  return k;
}

core::Status SigningKey::Save(const std::string& path) const {
  std::uint8_t raw[33];
  raw[0] = kAlgEd25519;
  std::memcpy(raw + 1, sk_.data(), 32);  // libsodium's secret key starts with the seed
  std::string text = "PRIVATE+KEY+" + pub_.name_ + "+" + Hex8(pub_.key_hash_) + "+" +
                     Base64(raw, sizeof raw) + "\n";
  sodium_memzero(raw, sizeof raw);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return core::InternalError("audit key: cannot create " + path);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  sodium_memzero(text.data(), text.size());
  if (!ok) return core::InternalError("audit key: cannot write " + path);
  std::ofstream pub(path + ".pub", std::ios::trunc);
  pub << pub_.ToString() << "\n";
  if (!pub) return core::InternalError("audit key: cannot write " + path + ".pub");
  return {};
}

core::Result<SigningKey> SigningKey::LoadOrCreate(const std::string& path, std::string_view name,
                                                  bool create) {
  if (!SodiumReady()) return core::InternalError("audit key: libsodium failed to initialise");
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    if (!create) return core::NotFoundError("audit key: no key file " + path);
    auto k = Generate(name);
    if (!k.ok()) return k.status();
    if (auto s = k->Save(path); !s.ok()) return s;
    return k;
  }
  if ((st.st_mode & 077) != 0) {
    return core::PermissionDeniedError("audit key: " + path + " must not be readable by others (chmod 600)");
  }
  bool ok = false;
  std::string text = ReadFile(path, &ok);
  if (!ok) return core::NotFoundError("audit key: cannot read " + path);
  std::string_view t = Trim(text);
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (t.substr(0, kPrefix.size()) != kPrefix) return core::InvalidArgumentError("audit key: malformed");
  t.remove_prefix(kPrefix.size());
  auto p1 = t.find('+');
  auto p2 = p1 == std::string_view::npos ? p1 : t.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return core::InvalidArgumentError("audit key: malformed");
  auto raw = Base64Decode(t.substr(p2 + 1));
  std::string key_name(t.substr(0, p1));
  std::string hash_hex(t.substr(p1 + 1, p2 - p1 - 1));
  sodium_memzero(text.data(), text.size());
  if (!raw || raw->size() != 33 || static_cast<std::uint8_t>((*raw)[0]) != kAlgEd25519) {
    return core::InvalidArgumentError("audit key: not an Ed25519 signing key");
  }
  SigningKey k;
  crypto_sign_seed_keypair(k.pub_.pk_.data(), k.sk_.data(),
                           reinterpret_cast<const unsigned char*>(raw->data() + 1));
  sodium_memzero(raw->data(), raw->size());
  k.pub_.name_ = key_name;
  k.pub_.key_hash_ = KeyHash(k.pub_.name_, k.pub_.pk_);
  if (Hex8(k.pub_.key_hash_) != hash_hex) {
    return core::InvalidArgumentError("audit key: key hash does not match the key");
  }
  return k;
}

core::Sha256Digest SigningKey::DeriveSecret(std::string_view label) const {
  return core::HmacSha256(
      std::string_view(reinterpret_cast<const char*>(sk_.data()), 32), label);  // the seed
}

std::string SigningKey::Sign(const Checkpoint& cp) const {
  std::string body = cp.Body();
  std::uint8_t sig[4 + crypto_sign_BYTES];
  std::uint32_t kh = pub_.key_hash_;
  sig[0] = static_cast<std::uint8_t>(kh >> 24);
  sig[1] = static_cast<std::uint8_t>(kh >> 16);
  sig[2] = static_cast<std::uint8_t>(kh >> 8);
  sig[3] = static_cast<std::uint8_t>(kh);
  crypto_sign_detached(sig + 4, nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                       body.size(), sk_.data());
  return body + "\n" + std::string(kEmDash) + " " + pub_.name_ + " " + Base64(sig, sizeof sig) +
         "\n";
}

core::Result<Checkpoint> ParseCheckpointBody(std::string_view note) {
  auto bad = [](std::string m) { return core::Status(core::StatusCode::kDataLoss, "checkpoint: " + m); };
  auto split = note.find("\n\n");
  std::string_view body = split == std::string_view::npos ? note : note.substr(0, split + 1);
  Checkpoint cp;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool have_chain = false;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    if (nl == std::string_view::npos) return bad("body does not end with a newline");
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    switch (line_no++) {
      case 0: cp.origin = std::string(line); break;
      case 1: {
        if (line.empty() || line.size() > 19) return bad("bad tree size");
        std::uint64_t n = 0;
        for (char c : line) {
          if (c < '0' || c > '9') return bad("bad tree size");
          n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        cp.tree_size = n;
        break;
      }
      case 2: {
        auto r = Base64Decode(line);
        if (!r || r->size() != 32) return bad("bad root hash");
        std::memcpy(cp.root.data(), r->data(), 32);
        break;
      }
      default:
        if (line.substr(0, 6) == "chain ") {
          auto r = Base64Decode(line.substr(6));
          if (!r || r->size() != 32) return bad("bad chain head");
          std::memcpy(cp.chain_head.data(), r->data(), 32);
          have_chain = true;
        } else if (line.substr(0, 3) == "ts ") {
          auto t = ParseTimestampMs(line.substr(3));
          if (!t) return bad("bad timestamp");
          cp.ts_ms = *t;
        }
        // Other extension lines are allowed and ignored.
    }
  }
  if (line_no < 3 || !have_chain) return bad("missing lines");
  return cp;
}

core::Result<Checkpoint> OpenCheckpoint(std::string_view note, const PublicKey& key) {
  auto cp = ParseCheckpointBody(note);
  if (!cp.ok()) return cp;
  auto split = note.find("\n\n");
  if (split == std::string_view::npos) {
    return core::Status(core::StatusCode::kDataLoss, "checkpoint: no signature");
  }
  std::string_view body = note.substr(0, split + 1);
  std::string_view sigs = note.substr(split + 2);
  std::string prefix = std::string(kEmDash) + " " + key.name() + " ";
  std::size_t pos = 0;
  while (pos < sigs.size()) {
    auto nl = sigs.find('\n', pos);
    std::string_view line = sigs.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? sigs.size() : nl + 1;
    if (line.substr(0, prefix.size()) != prefix) continue;
    auto raw = Base64Decode(line.substr(prefix.size()));
    if (!raw || raw->size() != 4 + crypto_sign_BYTES) continue;
    auto* b = reinterpret_cast<const std::uint8_t*>(raw->data());
    std::uint32_t kh = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 |
                       std::uint32_t{b[2]} << 8 | b[3];
    if (kh != key.key_hash()) continue;
    if (key.Verify(body, b + 4)) return cp;
  }
  return core::Status(core::StatusCode::kDataLoss,
                      "checkpoint: no valid signature by key " + key.name());
}

}  // namespace baagate::audit
