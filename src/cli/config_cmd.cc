// `baagate config check|defaults`.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "config/config.h"
#include "pipeline/snapshot.h"

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
  return [check, defaults, path]() -> int {
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
                << cfg->routes.size() << " routes, " << cfg->keys.size() << " keys, " << warnings
                << " warnings)\n";
      return 0;
    }
    return 2;
  };
}

}  // namespace baagate::cli
