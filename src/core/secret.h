// Secret<T>: a value that must never be printed (vendor credentials, gateway keys, later PHI).
// It has no stream operator; ToString() redacts; reading the value takes an explicit Expose(),
// so every place that touches the plain value is easy to find in review.
#pragma once

#include <string>
#include <utility>

namespace baagate::core {

template <typename T>
class Secret {
 public:
  Secret() = default;
  explicit Secret(T value) : value_(std::move(value)) {}

  const T& Expose() const { return value_; }
  std::string ToString() const { return "[redacted]"; }
  bool empty() const { return value_.empty(); }

 private:
  T value_;
};

using SecretString = Secret<std::string>;

}  // namespace baagate::core
