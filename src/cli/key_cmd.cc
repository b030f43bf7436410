// `baagate key generate|hash`: make gateway keys and the hashes the configuration stores.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "core/crypto.h"

namespace baagate::cli {

namespace {

std::string Base64Url(const std::uint8_t* data, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    acc = acc << 8 | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

}  // namespace

Command RegisterKey(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("key", "Create gateway keys and their configuration hashes.");
  sub->require_subcommand(1);
  auto name = std::make_shared<std::string>("my-app");
  CLI::App* gen = sub->add_subcommand(
      "generate", "Print a new random gateway key and the keys: entry (with its SHA-256) to add "
                  "to the configuration. Only the hash goes into the file.");
  gen->add_option("--name", *name, "name for the keys: entry")->capture_default_str();
  CLI::App* hash = sub->add_subcommand(
      "hash", "Read a key from standard input and print its SHA-256 for the configuration.");
  return [gen, hash, name]() -> int {
    if (gen->parsed()) {
      std::uint8_t raw[32];
      core::SecureRandomBytes(raw, sizeof raw);
      std::string key = "bg-" + Base64Url(raw, sizeof raw);
      std::cout << "key (give to the application; shown once): " << key << "\n\n"
                << "keys:\n"
                << "  - name: " << *name << "\n"
                << "    sha256: " << core::HexEncode(core::Sha256(key)) << "\n"
                << "    tenant: my-tenant\n"
                << "    app: " << *name << "\n"
                << "    role: service\n"
                << "    purpose: treatment\n";
      return 0;
    }
    if (hash->parsed()) {
      std::string key;
      std::getline(std::cin, key);
      while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
      if (key.empty()) {
        std::cerr << "baagate key hash: no key on standard input\n";
        return 1;
      }
      std::cout << core::HexEncode(core::Sha256(key)) << "\n";
      return 0;
    }
    return 2;
  };
}

}  // namespace baagate::cli
