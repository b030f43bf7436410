// PHI classes and findings: the vocabulary shared by the detector, the transforms, the CLI and
// the gateway. A Finding holds offsets only, never the text it points at, so findings (and the
// per-class counts built from them) may be logged and audited.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace baagate::phi {

// The Safe Harbor identifier classes that occur in text (COMPLIANCE.md §2.2, letters A–R).
enum class PhiClass : std::uint8_t {
  kName,          // A
  kLocation,      // B: street, city, county, ZIP, facility
  kDate,          // C: every element of a date but the year, and years implying age > 89
  kAge,           // C: ages over 89
  kPhone,         // D
  kFax,           // E
  kEmail,         // F
  kSsn,           // G
  kMrn,           // H
  kHealthPlan,    // I: member / subscriber ids, Medicare MBI
  kAccount,       // J
  kLicense,       // K: driver's licence, DEA, NPI, certificates
  kVehicle,       // L: VIN, plates
  kDevice,        // M: serials, UDI
  kUrl,           // N
  kIp,            // O
  kBiometric,     // P
  kUniqueId,      // R: other unique identifying numbers, custom patterns
};
inline constexpr std::size_t kPhiClassCount = 18;

// The corpus-style name ("NAME", "GEOGRAPHIC_LOCATION", ...), used by the CLI and eval.
std::string_view ClassName(PhiClass c);
// The short tag used in placeholders ("NAME" in "[NAME_1]").
std::string_view PlaceholderTag(PhiClass c);
// Parses a ClassName or a PlaceholderTag (case-insensitive).
std::optional<PhiClass> ParseClass(std::string_view name);

struct Finding {
  PhiClass cls = PhiClass::kUniqueId;
  std::size_t begin = 0;     // byte offset, inclusive
  std::size_t end = 0;       // byte offset, exclusive
  std::size_t cp_begin = 0;  // code-point offsets (exact for valid UTF-8; see utf8.h)
  std::size_t cp_end = 0;
  float confidence = 0;
  std::string_view rule;  // static storage: a rule id such as "date.month_day_year"
};

// Number of findings per class: what the gateway hands to the audit record (never text).
using FindingCounts = std::array<std::uint32_t, kPhiClassCount>;

}  // namespace baagate::phi
