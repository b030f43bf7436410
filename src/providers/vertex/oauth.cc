#include "providers/vertex/oauth.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <boost/json.hpp>

#include <memory>

#include "core/log.h"
#include "providers/bedrock/sigv4.h"

namespace baagate::providers::vertex {

namespace json = boost::json;

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr LoadPrivateKey(std::string_view pem) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

PkeyPtr LoadAnyKey(std::string_view pem) {
  if (pem.find("PRIVATE KEY") != std::string_view::npos) return LoadPrivateKey(pem);
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  return PkeyPtr(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

core::Result<std::string> SignRs256(EVP_PKEY* key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return core::InternalError("oauth: RS256 signing failed");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return core::InternalError("oauth: RS256 signing failed");
  }
  sig.resize(len);
  return sig;
}

bool VerifyRs256(EVP_PKEY* key, std::string_view data, std::string_view sig) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                          sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

const json::string* StringField(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v != nullptr ? v->if_string() : nullptr;
}

constexpr char kB64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

}  // namespace

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<std::uint32_t>(static_cast<unsigned char>(data[k])); };
  for (; i + 2 < data.size(); i += 3) {
    std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64Url[(v >> s) & 63]);
  }
  if (i + 1 == data.size()) {
    std::uint32_t v = byte(i) << 16;
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
  } else if (i + 2 == data.size()) {
    std::uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8);
    out.push_back(kB64Url[(v >> 18) & 63]);
    out.push_back(kB64Url[(v >> 12) & 63]);
    out.push_back(kB64Url[(v >> 6) & 63]);
  }
  return out;
}

core::Result<std::string> Base64UrlDecode(std::string_view data) {
  while (!data.empty() && data.back() == '=') data.remove_suffix(1);
  if (data.size() % 4 == 1) return core::InvalidArgumentError("base64url: bad length");
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : data) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-') v = 62;
    else if (c == '_') v = 63;
    else return core::InvalidArgumentError("base64url: bad character");
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

core::Result<ServiceAccountKey> ParseServiceAccountKey(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return core::InvalidArgumentError("service account key: not a JSON object");
  const json::object& o = v.as_object();
  const json::string* type = StringField(o, "type");
  if (type != nullptr && *type != "service_account") {
    return core::InvalidArgumentError("service account key: type is not service_account");
  }
  ServiceAccountKey key;
  for (auto [name, out] : {std::pair<std::string_view, std::string*>{"client_email", &key.client_email},
                           {"private_key_id", &key.private_key_id}}) {
    const json::string* s = StringField(o, name);
    if (s == nullptr || s->empty()) {
      return core::InvalidArgumentError("service account key: missing " + std::string(name));
    }
    *out = std::string(*s);
  }
  const json::string* pem = StringField(o, "private_key");
  if (pem == nullptr || !LoadPrivateKey(*pem)) {
    return core::InvalidArgumentError("service account key: private_key is not a PEM private key");
  }
  key.private_key_pem = core::SecretString(std::string(*pem));
  const json::string* uri = StringField(o, "token_uri");
  key.token_uri = uri != nullptr && !uri->empty() ? std::string(*uri) : std::string(kDefaultTokenUri);
  if (const json::string* p = StringField(o, "project_id")) key.project_id = std::string(*p);
  return key;
}

core::Result<std::string> BuildJwtAssertion(const ServiceAccountKey& key, std::string_view scope,
                                            std::int64_t now_unix, std::int64_t lifetime_s) {
  if (lifetime_s <= 0 || lifetime_s > 3600) lifetime_s = 3600;
  PkeyPtr pkey = LoadPrivateKey(key.private_key_pem.Expose());
  if (!pkey) return core::InvalidArgumentError("oauth: cannot load the private key");
  std::string header = R"({"alg":"RS256","typ":"JWT","kid":)";
  core::AppendJsonString(header, key.private_key_id);
  header += '}';
  json::object claims;
  claims["iss"] = key.client_email;
  claims["scope"] = scope;
  claims["aud"] = key.token_uri;
  claims["iat"] = now_unix;
  claims["exp"] = now_unix + lifetime_s;
  std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(json::serialize(claims));
  auto sig = SignRs256(pkey.get(), signing_input);
  if (!sig.ok()) return sig.status();
  return signing_input + "." + Base64UrlEncode(*sig);
}

std::string TokenRequestBody(std::string_view assertion) {
  return "grant_type=" + bedrock::UriEncode(kJwtBearerGrant, false) +
         "&assertion=" + bedrock::UriEncode(assertion, false);
}

core::Result<AccessToken> ParseTokenResponse(std::string_view body, std::int64_t now_unix) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return core::UnavailableError("oauth: token response is not JSON");
  const json::object& o = v.as_object();
  const json::string* token = StringField(o, "access_token");
  const json::value* expires = o.if_contains("expires_in");
  if (token == nullptr || token->empty() || expires == nullptr || !expires->is_number()) {
    return core::UnavailableError("oauth: token response lacks access_token or expires_in");
  }
  boost::system::error_code num_ec;
  auto seconds = expires->to_number<std::int64_t>(num_ec);
  if (num_ec || seconds <= 0) return core::UnavailableError("oauth: bad expires_in");
  if (const json::string* type = StringField(o, "token_type");
      type != nullptr && *type != "Bearer" && *type != "bearer") {
    return core::UnavailableError("oauth: token_type is not Bearer");
  }
  return AccessToken{core::SecretString(std::string(*token)), now_unix + seconds};
}

core::Result<std::string> VerifyJwtAssertion(std::string_view jwt, std::string_view key_pem,
                                             std::string_view expected_aud,
                                             std::int64_t now_unix) {
  auto bad = [](std::string m) { return core::UnauthenticatedError("jwt: " + m); };
  const std::size_t d1 = jwt.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return bad("not three parts");
  auto header = Base64UrlDecode(jwt.substr(0, d1));
  auto claims = Base64UrlDecode(jwt.substr(d1 + 1, d2 - d1 - 1));
  auto sig = Base64UrlDecode(jwt.substr(d2 + 1));
  if (!header.ok() || !claims.ok() || !sig.ok()) return bad("bad base64url");
  boost::system::error_code ec;
  json::value h = json::parse(*header, ec);
  if (ec || !h.is_object() || StringField(h.as_object(), "alg") == nullptr ||
      *StringField(h.as_object(), "alg") != "RS256") {
    return bad("alg is not RS256");
  }
  PkeyPtr key = LoadAnyKey(key_pem);
  if (!key) return core::InternalError("jwt: cannot load verification key");
  if (!VerifyRs256(key.get(), jwt.substr(0, d2), *sig)) return bad("signature does not verify");
  json::value c = json::parse(*claims, ec);
  if (ec || !c.is_object()) return bad("claims are not an object");
  const json::object& co = c.as_object();
  const json::string* aud = StringField(co, "aud");
  if (aud == nullptr || *aud != expected_aud) return bad("wrong aud");
  const json::value* iat = co.if_contains("iat");
  const json::value* exp = co.if_contains("exp");
  if (iat == nullptr || exp == nullptr || !iat->is_int64() || !exp->is_int64()) {
    return bad("iat/exp missing");
  }
  if (iat->as_int64() > now_unix + 60) return bad("issued in the future");
  if (exp->as_int64() <= now_unix) return bad("expired");
  if (exp->as_int64() > iat->as_int64() + 3600) return bad("lifetime over one hour");
  if (StringField(co, "iss") == nullptr || StringField(co, "scope") == nullptr) {
    return bad("iss/scope missing");
  }
  return std::string(*claims);
}

TokenCache::TokenCache(ServiceAccountKey key, FetchFn fetch, ClockFn clock,
                       std::chrono::seconds refresh_margin)
    : key_(std::move(key)),
      fetch_(std::move(fetch)),
      clock_(std::move(clock)),
      margin_s_(refresh_margin.count()) {}

core::Result<core::SecretString> TokenCache::GetToken() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = clock_();
  if (current_.expires_at_unix != 0 && now + margin_s_ < current_.expires_at_unix) {
    return current_.token;
  }
  auto assertion = BuildJwtAssertion(key_, kCloudPlatformScope, now);
  if (!assertion.ok()) return assertion.status();
  ++fetches_;
  auto body = fetch_(key_.token_uri, TokenRequestBody(*assertion));
  if (!body.ok()) return body.status();
  auto token = ParseTokenResponse(*body, now);
  if (!token.ok()) return token.status();
  current_ = std::move(token).value();
  return current_.token;
}

int TokenCache::fetch_count_for_test() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

}  // namespace baagate::providers::vertex
