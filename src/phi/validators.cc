#include "phi/validators.h"

#include <array>
#include <cctype>
#include <string>

namespace baagate::phi {

bool LuhnValid(std::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool dbl = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it < '0' || *it > '9') return false;
    int d = *it - '0';
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 == 0;
}

bool ValidNpi(std::string_view s) {
  if (s.size() != 10 || (s[0] != '1' && s[0] != '2')) return false;
  return LuhnValid(std::string("80840") + std::string(s));
}

bool ValidDea(std::string_view s) {
  if (s.size() != 9 || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (std::size_t i = 2; i < 9; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  auto d = [&](std::size_t i) { return s[i] - '0'; };
  int sum = d(2) + d(4) + d(6) + 2 * (d(3) + d(5) + d(7));
  return sum % 10 == d(8);
}

bool ValidVin(std::string_view s) {
  if (s.size() != 17) return false;
  static constexpr std::array<int, 17> kWeights = {8, 7, 6, 5, 4, 3, 2, 10, 0,
                                                   9, 8, 7, 6, 5, 4, 3, 2};
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    static constexpr std::string_view kLetters = "ABCDEFGHJKLMNPRSTUVWXYZ";
    static constexpr std::array<int, 23> kValues = {1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4,
                                                    5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9};
    std::size_t p = kLetters.find(c);
    return p == std::string_view::npos ? -1 : kValues[p];
  };
  int sum = 0;
  bool letter = false, digit = false;
  for (std::size_t i = 0; i < 17; ++i) {
    int v = value(s[i]);
    if (v < 0) return false;
    (s[i] >= '0' && s[i] <= '9' ? digit : letter) = true;
    sum += v * kWeights[i];
  }
  int check = sum % 11;
  char want = check == 10 ? 'X' : static_cast<char>('0' + check);
  return letter && digit && s[8] == want;
}

bool IsUnitWord(std::string_view w) {
  static constexpr std::string_view kUnits[] = {
      "mg",   "mcg",   "g",     "kg",    "ml",     "l",      "iu",     "u",      "units",
      "unit", "meq",   "mmol",  "mol",   "cells",  "copies", "cc",     "mm",     "cm",
      "m",    "km",    "lb",    "lbs",   "oz",     "ng",     "pg",     "ug",     "mmhg",
      "bpm",  "hz",    "patients", "people", "cases", "deaths", "mile", "miles", "steps",
      "calories", "kcal", "dollars", "usd", "ms", "sec", "seconds", "minutes", "hours",
      "days", "weeks", "months", "years", "participants", "subjects", "words", "tokens",
      "bytes", "kb", "mb", "gb", "x", "times", "pack", "packs", "tablets", "doses"};
  if (w.empty() || w.size() > 12) return false;
  std::string lower;
  for (char c : w) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view u : kUnits) {
    if (lower == u) return true;
  }
  return false;
}

}  // namespace baagate::phi
