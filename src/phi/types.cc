#include "phi/types.h"

#include <cctype>
#include <string>

namespace baagate::phi {

namespace {

struct ClassNames {
  std::string_view corpus;
  std::string_view tag;
};

constexpr std::array<ClassNames, kPhiClassCount> kNames = {{
    {"NAME", "NAME"},
    {"GEOGRAPHIC_LOCATION", "LOCATION"},
    {"DATE", "DATE"},
    {"AGE", "AGE"},
    {"PHONE_NUMBER", "PHONE"},
    {"FAX_NUMBER", "FAX"},
    {"EMAIL_ADDRESS", "EMAIL"},
    {"SOCIAL_SECURITY_NUMBER", "SSN"},
    {"MEDICAL_RECORD_NUMBER", "MRN"},
    {"HEALTH_PLAN_BENEFICIARY_NUMBER", "PLAN_ID"},
    {"ACCOUNT_NUMBER", "ACCOUNT"},
    {"CERTIFICATE_LICENSE_NUMBER", "LICENSE"},
    {"VEHICLE_IDENTIFIER", "VEHICLE"},
    {"DEVICE_IDENTIFIER", "DEVICE"},
    {"URL", "URL"},
    {"IP_ADDRESS", "IP"},
    {"BIOMETRIC_IDENTIFIER", "BIOMETRIC"},
    {"UNIQUE_IDENTIFIER", "ID"},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view ClassName(PhiClass c) { return kNames[static_cast<std::size_t>(c)].corpus; }
std::string_view PlaceholderTag(PhiClass c) { return kNames[static_cast<std::size_t>(c)].tag; }

std::optional<PhiClass> ParseClass(std::string_view name) {
  for (std::size_t i = 0; i < kPhiClassCount; ++i) {
    if (EqualsIgnoreCase(name, kNames[i].corpus) || EqualsIgnoreCase(name, kNames[i].tag)) {
      return static_cast<PhiClass>(i);
    }
  }
  return std::nullopt;
}

}  // namespace baagate::phi
