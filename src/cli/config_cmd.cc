// `baagate config check|defaults`.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "config/config.h"
#include "config/phi_options.h"
#include "pipeline/snapshot.h"
#include "policy/config_hash.h"

namespace baagate::cli {

Command RegisterConfig(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("config", "Validate or show configuration.");
  sub->require_subcommand(1);
  auto path = std::make_shared<std::string>();
  CLI::App* check = sub->add_subcommand(
      "check", "Validate a configuration file: schema, routes, upstream URLs, CA files and "
               "credentials. Errors name file:line:column and the key. Exit 1 if invalid.");
  check->add_option("file", *path, "YAML configuration file")->required();
  CLI::App* defaults =
      sub->add_subcommand("defaults", "Print the embedded default configuration.");
  auto other = std::make_shared<std::string>();
  CLI::App* diff = sub->add_subcommand(
      "diff",
      "Compare the effective configurations (registry, tenant, apps, upstreams, routes, key "
      "bindings) of two files: prints both hashes and every changed setting. Exit 0 if equal, "
      "1 if they differ, 2 on error. Use it to review drift from an approved baseline.");
  diff->add_option("a", *path, "the baseline configuration")->required();
  diff->add_option("b", *other, "the configuration to compare")->required();
  return [check, defaults, diff, path, other]() -> int {
    if (diff->parsed()) {
      boost::json::value eff[2];
      std::string hash[2];
      const std::string* files[2] = {path.get(), other.get()};
      for (int i = 0; i < 2; ++i) {
        auto cfg = config::LoadConfigFile(*files[i]);
        if (!cfg.ok()) {
          std::cerr << cfg.status().message() << "\n";
          return 2;
        }
        auto registry = pipeline::LoadRegistryFor(*cfg);
        if (!registry.ok()) {
          std::cerr << registry.status().message() << "\n";
          return 2;
        }
        eff[i] = policy::EffectiveConfigJson(*cfg, *registry);
        hash[i] = policy::ConfigHash(*cfg, *registry);
      }
      std::cout << "a: " << *path << " " << hash[0] << "\nb: " << *other << " " << hash[1] << "\n";
      auto lines = policy::DiffEffectiveConfig(eff[0], eff[1]);
      for (const auto& l : lines) std::cout << l << "\n";
      if (lines.empty()) std::cout << "no differences\n";
      return lines.empty() ? 0 : 1;
    }
    if (defaults->parsed()) {
      std::cout << config::EmbeddedDefaultYaml();
      return 0;
    }
    if (check->parsed()) {
      auto cfg = config::LoadConfigFile(*path);
      if (!cfg.ok()) {
        std::cerr << cfg.status().message() << "\n";
        return 1;
      }
      auto snap = pipeline::Snapshot::Build(*cfg);
      if (!snap.ok()) {
        std::cerr << snap.status().message() << "\n";
        return 1;
      }
      // The de-identifier's lists are read and its patterns compiled, as `serve` will.
      if (cfg->phi.HasLists()) {
        if (auto det = config::MakeDetector(cfg->phi); !det.ok()) {
          std::cerr << *path << ": phi: " << det.status().message() << "\n";
          return 1;
        }
      }
      int warnings = 0;
      for (const auto& u : (*snap)->upstreams()) {
        if (!u->credential_problem.empty()) {
          std::cerr << *path << ":" << cfg->upstreams.at(u->target.name).line << ": upstreams."
                    << u->target.name << ".credential: warning: " << u->credential_problem
                    << "\n";
          ++warnings;
        }
      }
      if (!(*snap)->has_keys()) {
        std::cerr << *path << ": keys: warning: no gateway keys; every request will be refused\n";
        ++warnings;
      }
      std::cout << *path << ": ok (" << cfg->upstreams.size() << " upstreams, "
                << cfg->routes.size() << " routes, " << cfg->keys.size() << " keys, "
                << cfg->tenant.contracts.size() << " contracts, " << warnings << " warnings)\n"
                << "config_hash " << (*snap)->policy().config_hash() << "\nregistry "
                << (*snap)->policy().registry().sha256 << " ("
                << (*snap)->policy().registry().version_label << ")\n";
      if ((*snap)->drift()) {
        std::cerr << *path << ": policy.baseline_hash: warning: the configuration differs from the "
                     "approved baseline\n";
      }
      return 0;
    }
    return 2;
  };
}

}  // namespace baagate::cli
