// `tsvault hash-password`: prints the bcrypt hash of a password read from
// standard input, for basic_auth_users and bearer_tokens of the web config
// (docs/security.md). The password never appears on the command line.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "auth/password_hash.h"
#include "tools/commands.h"

namespace tsvault::tools {

void AddHashPasswordCommand(CLI::App* app) {
  auto cost = std::make_shared<int>(10);
  CLI::App* command = app->add_subcommand(
      "hash-password", "Print the bcrypt hash of the password on standard input (one line) for --web.config.file");
  command->add_option("--cost", *cost, "bcrypt cost: 2^cost rounds")->capture_default_str()->check(CLI::Range(4, 31));
  command->callback([cost] {
    std::string password;
    if (!std::getline(std::cin, password) || password.empty()) {
      std::cerr << "hash-password: give the password on standard input, e.g. "
                   "`read -rs P && echo \"$P\" | tsvault hash-password`\n";
      std::exit(2);
    }
    if (!password.empty() && password.back() == '\r') password.pop_back();
    std::string hash;
    Status s = auth::HashPassword(password, *cost, &hash);
    if (!s.ok()) {
      std::cerr << "hash-password: " << s.message() << "\n";
      std::exit(1);
    }
    std::cout << hash << "\n";
    std::exit(0);
  });
}

}  // namespace tsvault::tools
