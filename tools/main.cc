// The tsvault binary: `tsvault <subcommand> [flags]`.
#include <CLI/CLI.hpp>
#include <cstdio>

#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"tsvault: a long-term store for Prometheus data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", TSVAULT_VERSION);

  auto* version = app.add_subcommand("version", "Print the version and exit");
  version->callback([] {
    std::printf("tsvault %s (revision %s)\n", TSVAULT_VERSION, TSVAULT_REVISION);
  });
  tsvault::tools::AddServeCommand(&app);
  tsvault::tools::AddLoadgenCommand(&app);
  tsvault::tools::AddCompactCommand(&app);
  tsvault::tools::AddInspectCommand(&app);
  tsvault::tools::AddDeleteCommand(&app);
  tsvault::tools::AddExportCommand(&app);
  tsvault::tools::AddImportCommand(&app);
  tsvault::tools::AddHashPasswordCommand(&app);

  CLI11_PARSE(app, argc, argv);
  return 0;
}
