// RFC 8785 JSON Canonicalization Scheme (JCS) for the audit log (docs/formats/audit.md).
//
// The audit schema only uses objects, arrays, strings, booleans, null and integers, so this
// encoder rejects floating-point numbers and integers outside the I-JSON safe range (|n| <= 2^53)
// instead of implementing ECMAScript number formatting. Object keys must be ASCII: the audit
// schema's keys are, and for ASCII the UTF-16 code-unit order RFC 8785 requires is byte order.
#pragma once

#include <boost/json/value.hpp>

#include <string>

#include "core/status.h"

namespace baagate::audit {

// Appends the canonical form of `v` to `out`. Thread-safe (no shared state).
core::Status AppendCanonicalJson(const boost::json::value& v, std::string& out);

core::Result<std::string> CanonicalJson(const boost::json::value& v);

}  // namespace baagate::audit
