// The 403 a client receives when a call is blocked, in its own SDK's error shape. It names the
// reason codes and says in one sentence how to fix the cause; it never echoes request content
// (reason codes are built from registry ids and identifier-shaped field names only).
#pragma once

#include <string>
#include <string_view>

#include "policy/policy.h"

namespace baagate::policy {

enum class Dialect { kOpenAI, kAnthropic };

// One sentence on how to bring the call into scope, chosen by the most fundamental reason.
std::string FixHint(const Decision& d);

// OpenAI: {"error":{"message","type":"permission_error","param":null,"code":"baa_scope_violation",
//          "reasons":[…],"request_id":…}}
// Anthropic: {"type":"error","error":{"type":"permission_error","message",…,"reasons":[…]},
//             "request_id":…}
std::string BlockBody(Dialect dialect, const Decision& d, std::string_view request_id);

}  // namespace baagate::policy
