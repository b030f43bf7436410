// Check-digit and shape validators that keep the structured detectors precise.
// Pure functions on ASCII; any input is accepted.
#pragma once

#include <string_view>

namespace baagate::phi {

// Luhn over all digits of `digits` (non-digits rejected).
bool LuhnValid(std::string_view digits);
// US National Provider Identifier: 10 digits, Luhn over "80840" + the number.
bool ValidNpi(std::string_view s);
// DEA registration number: 2 letters + 7 digits with the DEA checksum.
bool ValidDea(std::string_view s);
// Vehicle identification number: 17 characters, ISO 3779 check digit in position 9, and at
// least one letter and one digit (so a 17-digit number is not taken for a VIN).
bool ValidVin(std::string_view s);
// Units and quantity words after a number ("500 mg", "3000 units"): such numbers are doses,
// not identifiers.
bool IsUnitWord(std::string_view word);

}  // namespace baagate::phi
