#include "providers/bedrock/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/crypto.h"

namespace baagate::providers::bedrock {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kHex[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX; malformed escapes are kept literally (they are then encoded as %25XX).
std::string UriDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]);
      int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims and collapses inner runs of spaces, as the canonical-headers rule says.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool in_space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space && !out.empty()) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

std::string HexSha256(std::string_view data) { return core::HexEncode(core::Sha256(data)); }

std::string ToHexLower(const std::uint8_t* d, std::size_t n) { return core::HexEncode(d, n); }

const std::string* FindHeader(const HeaderList& headers, std::string_view lower_name,
                              std::string* storage) {
  for (const auto& [name, value] : headers) {
    if (ToLower(name) == lower_name) {
      *storage = value;
      return storage;
    }
  }
  return nullptr;
}

bool ValidAmzDate(std::string_view d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return false;
  for (std::size_t i = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (std::isdigit(static_cast<unsigned char>(d[i])) == 0) return false;
  }
  return true;
}

// Canonical request over the headers named in `signed_names` (lower case, sorted, unique).
std::string BuildCanonicalRequest(const SigV4Request& req,
                                  const std::vector<std::string>& signed_names,
                                  std::string* signed_headers_out) {
  std::vector<std::pair<std::string, std::string>> canon;
  for (const auto& name : signed_names) {
    std::string joined;
    for (const auto& [n, v] : req.headers) {
      if (ToLower(n) != name) continue;
      if (!joined.empty()) joined += ',';
      joined += CanonicalHeaderValue(v);
    }
    canon.emplace_back(name, std::move(joined));
  }
  std::string out;
  out.reserve(256 + req.path.size() + req.query.size());
  out += req.method;
  out += '\n';
  out += CanonicalUri(req.path);
  out += '\n';
  out += CanonicalQuery(req.query);
  out += '\n';
  std::string signed_headers;
  for (const auto& [n, v] : canon) {
    out += n;
    out += ':';
    out += v;
    out += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += n;
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += HexSha256(req.payload);
  *signed_headers_out = std::move(signed_headers);
  return out;
}

core::Result<SigV4Signature> SignWith(const SigV4Request& req, const AwsCredentials& creds,
                                      std::string_view region, std::string_view service,
                                      std::vector<std::string> signed_names) {
  std::string date_storage;
  const std::string* amz_date = FindHeader(req.headers, "x-amz-date", &date_storage);
  if (amz_date == nullptr || !ValidAmzDate(*amz_date)) {
    return core::InvalidArgumentError("sigv4: missing or malformed x-amz-date");
  }
  std::sort(signed_names.begin(), signed_names.end());
  signed_names.erase(std::unique(signed_names.begin(), signed_names.end()), signed_names.end());
  if (!std::binary_search(signed_names.begin(), signed_names.end(), "host")) {
    return core::InvalidArgumentError("sigv4: host header is not signed");
  }
  SigV4Signature sig;
  sig.canonical_request = BuildCanonicalRequest(req, signed_names, &sig.signed_headers);
  const std::string date = amz_date->substr(0, 8);
  std::string scope = date;
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + *amz_date + "\n" + scope + "\n" +
                       HexSha256(sig.canonical_request);
  auto key = DeriveSigningKey(creds.secret_access_key.Expose(), date, region, service);
  auto mac = HmacSha256(key.data(), key.size(), sig.string_to_sign);
  OPENSSL_cleanse(key.data(), key.size());
  sig.signature = ToHexLower(mac.data(), mac.size());
  sig.authorization = std::string(kAlgorithm) + " Credential=" + creds.access_key_id + "/" +
                      scope + ", SignedHeaders=" + sig.signed_headers +
                      ", Signature=" + sig.signature;
  return sig;
}

}  // namespace

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string CanonicalUri(std::string_view wire_path) {
  if (wire_path.empty()) return "/";
  return UriEncode(wire_path, true);
}

std::string CanonicalQuery(std::string_view wire_query) {
  std::vector<std::pair<std::string, std::string>> params;
  while (!wire_query.empty()) {
    std::size_t amp = wire_query.find('&');
    std::string_view part = wire_query.substr(0, amp);
    wire_query = amp == std::string_view::npos ? std::string_view() : wire_query.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    std::string_view name = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    params.emplace_back(UriEncode(UriDecode(name), false), UriEncode(UriDecode(value), false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [n, v] : params) {
    if (!out.empty()) out += '&';
    out += n;
    out += '=';
    out += v;
  }
  return out;
}

std::array<std::uint8_t, 32> HmacSha256(const std::uint8_t* key, std::size_t key_size,
                                        std::string_view data) {
  std::array<std::uint8_t, 32> out{};
  unsigned int len = 0;
  // One-shot HMAC cannot fail with SHA-256 and in-memory buffers short of allocation failure;
  // a failure would leave a zero MAC that never verifies (fails closed).
  HMAC(EVP_sha256(), key, static_cast<int>(key_size),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::array<std::uint8_t, 32> DeriveSigningKey(std::string_view secret, std::string_view date,
                                              std::string_view region,
                                              std::string_view service) {
  std::string k = "AWS4";
  k += secret;
  auto k_date = HmacSha256(reinterpret_cast<const std::uint8_t*>(k.data()), k.size(), date);
  OPENSSL_cleanse(k.data(), k.size());
  auto k_region = HmacSha256(k_date.data(), k_date.size(), region);
  auto k_service = HmacSha256(k_region.data(), k_region.size(), service);
  return HmacSha256(k_service.data(), k_service.size(), "aws4_request");
}

std::string FormatAmzDate(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[17];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, 16);
}

core::Result<SigV4Signature> ComputeSignature(const SigV4Request& req,
                                              const AwsCredentials& creds,
                                              std::string_view region, std::string_view service) {
  std::vector<std::string> names;
  names.reserve(req.headers.size());
  for (const auto& [n, v] : req.headers) names.push_back(ToLower(n));
  return SignWith(req, creds, region, service, std::move(names));
}

core::Result<HeaderList> SignRequest(SigV4Request& req, const AwsCredentials& creds,
                                     std::string_view region, std::string_view service,
                                     std::string_view amz_date) {
  HeaderList added;
  added.emplace_back("x-amz-date", std::string(amz_date));
  if (!creds.session_token.empty()) {
    added.emplace_back("x-amz-security-token", creds.session_token.Expose());
  }
  added.emplace_back("x-amz-content-sha256", HexSha256(req.payload));
  for (const auto& h : added) req.headers.push_back(h);
  auto sig = ComputeSignature(req, creds, region, service);
  if (!sig.ok()) return sig.status();
  added.emplace_back("authorization", sig->authorization);
  req.headers.push_back(added.back());
  return added;
}

core::Result<SigV4Authorization> ParseAuthorization(std::string_view header) {
  auto bad = [] { return core::UnauthenticatedError("sigv4: malformed Authorization header"); };
  if (header.substr(0, kAlgorithm.size()) != kAlgorithm) return bad();
  header.remove_prefix(kAlgorithm.size());
  SigV4Authorization out;
  bool have_cred = false, have_signed = false, have_sig = false;
  while (!header.empty()) {
    while (!header.empty() && (header.front() == ' ' || header.front() == ',')) {
      header.remove_prefix(1);
    }
    if (header.empty()) break;
    std::size_t end = header.find(',');
    std::string_view item = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) return bad();
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    if (key == "Credential") {
      std::vector<std::string> parts;
      std::size_t start = 0;
      while (true) {
        std::size_t slash = value.find('/', start);
        parts.emplace_back(value.substr(start, slash - start));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
      }
      if (parts.size() != 5 || parts[4] != "aws4_request") return bad();
      out.access_key_id = parts[0];
      out.date = parts[1];
      out.region = parts[2];
      out.service = parts[3];
      have_cred = true;
    } else if (key == "SignedHeaders") {
      std::size_t start = 0;
      while (true) {
        std::size_t semi = value.find(';', start);
        out.signed_headers.emplace_back(value.substr(start, semi - start));
        if (semi == std::string_view::npos) break;
        start = semi + 1;
      }
      have_signed = true;
    } else if (key == "Signature") {
      out.signature = std::string(value);
      have_sig = true;
    }
  }
  if (!have_cred || !have_signed || !have_sig || out.signature.size() != 64) return bad();
  return out;
}

core::Status VerifyRequest(const SigV4Request& req, const AwsCredentials& creds,
                           std::string* expected_canonical) {
  std::string auth_storage;
  const std::string* auth = FindHeader(req.headers, "authorization", &auth_storage);
  if (auth == nullptr) return core::UnauthenticatedError("sigv4: missing Authorization");
  auto parsed = ParseAuthorization(*auth);
  if (!parsed.ok()) return parsed.status();
  if (parsed->access_key_id != creds.access_key_id) {
    return core::UnauthenticatedError("sigv4: unknown access key id");
  }
  // The Authorization header itself is never signed.
  HeaderList headers;
  for (const auto& [n, v] : req.headers) {
    if (ToLower(n) != "authorization") headers.emplace_back(n, v);
  }
  SigV4Request unsigned_req{req.method, req.path, req.query, std::move(headers), req.payload};
  auto sig = SignWith(unsigned_req, creds, parsed->region, parsed->service,
                      parsed->signed_headers);
  if (!sig.ok()) return core::PermissionDeniedError(sig.status().message());
  if (sig->string_to_sign.find(parsed->date + "/") == std::string::npos) {
    return core::PermissionDeniedError("sigv4: credential date does not match x-amz-date");
  }
  core::Sha256Digest a{}, b{};
  if (!core::ParseSha256Hex(sig->signature, &a) || !core::ParseSha256Hex(parsed->signature, &b) ||
      !core::ConstantTimeEqual(a, b)) {
    if (expected_canonical != nullptr) *expected_canonical = sig->canonical_request;
    return core::PermissionDeniedError("sigv4: signature does not match");
  }
  return core::Status::Ok();
}

}  // namespace baagate::providers::bedrock
