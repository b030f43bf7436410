#include "policy/enforce.h"

#include <boost/json.hpp>

#include "core/crypto.h"
#include "policy/policy.h"

namespace baagate::policy {

namespace json = boost::json;

std::string PseudonymizeUserId(std::string_view key, std::string_view user_id) {
  core::Sha256Digest mac = core::HmacSha256(key, user_id);
  return "bgu_" + core::Base64UrlEncode(mac.data(), mac.size()).substr(0, 22);
}

namespace {

// Replaces a string user id with its pseudonym, or removes it without a key.
void UserId(json::object& o, std::string_view field, const EnforcementOptions& opts,
            EnforcementResult& r) {
  json::value* v = o.if_contains(field);
  if (!v || !v->is_string() || v->get_string().empty()) return;
  if (opts.pseudonym_key.empty()) {
    o.erase(field);
    r.actions.push_back("strip_" + std::string(field));
    return;
  }
  *v = PseudonymizeUserId(opts.pseudonym_key, v->get_string());
  r.actions.push_back("pseudonymize_" + std::string(field));
  r.pseudonymized = true;
}

}  // namespace

EnforcementResult Enforce(Surface surface, json::object& body, const EnforcementOptions& opts) {
  EnforcementResult r;
  switch (surface) {
    case Surface::kOpenAIChat:
    case Surface::kOpenAIResponses: {
      json::value* store = body.if_contains("store");
      const bool stored_by_default = surface == Surface::kOpenAIResponses;
      bool stored = store ? (store->is_bool() ? store->get_bool() : stored_by_default && store->is_null())
                          : stored_by_default;
      if (stored) {
        body["store"] = false;
        r.actions.push_back("set_store_false");
      }
      [[fallthrough]];
    }
    case Surface::kOpenAIEmbeddings: {
      if (json::value* md = body.if_contains("metadata"); md && !md->is_null()) {
        if (!md->is_object() || !md->get_object().empty()) r.actions.push_back("strip_metadata");
        body.erase("metadata");
      }
      UserId(body, "user", opts, r);
      UserId(body, "safety_identifier", opts, r);
      break;
    }
    case Surface::kAnthropicMessages:
    case Surface::kAnthropicCountTokens: {
      if (json::value* md = body.if_contains("metadata"); md && md->is_object()) {
        UserId(md->get_object(), "user_id", opts, r);
        if (md->get_object().empty()) body.erase("metadata");
      }
      if (json::value* geo = body.if_contains("inference_geo"); geo && geo->is_string() &&
          !opts.pin_region.empty() && !RegionAllowed(geo->get_string(), opts.allowed_regions)) {
        *geo = opts.pin_region;
        r.actions.push_back("pin_inference_geo");
      }
      break;
    }
    case Surface::kBedrockConverse: {
      // requestMetadata lands in Bedrock's invocation logs (C-META): it does not leave.
      if (json::value* md = body.if_contains("requestMetadata"); md && !md->is_null()) {
        if (!md->is_object() || !md->get_object().empty()) r.actions.push_back("strip_metadata");
        body.erase("requestMetadata");
      }
      break;
    }
  }
  return r;
}

}  // namespace baagate::policy
