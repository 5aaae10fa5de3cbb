// Subcommands of the tsvault binary (one file each).
#pragma once

namespace CLI {
class App;
}

namespace tsvault::tools {

// Adds `tsvault serve` to the app.
void AddServeCommand(CLI::App* app);
// Adds `tsvault loadgen` to the app.
void AddLoadgenCommand(CLI::App* app);
// Adds `tsvault compact` (offline compaction of a stopped node's data) to the app.
void AddCompactCommand(CLI::App* app);
// `tsvault inspect` (tools/inspect.cc).
void AddInspectCommand(CLI::App* app);
// `tsvault delete` (tools/delete.cc).
void AddDeleteCommand(CLI::App* app);
// `tsvault export blocks` (tools/export_blocks.cc).
void AddExportCommand(CLI::App* app);
// `tsvault import csv|prometheus|openmetrics` (tools/import.cc).
void AddImportCommand(CLI::App* app);
// `tsvault hash-password` (tools/hash_password.cc).
void AddHashPasswordCommand(CLI::App* app);
// `export csv`, under the `export` command (tools/export_csv.cc).
void AddExportCsvCommand(CLI::App* export_command);

}  // namespace tsvault::tools
