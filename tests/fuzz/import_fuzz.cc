// Fuzzes the import decoders: Prometheus text and OpenMetrics lines, CSV
// records (split in pieces as a streamed upload arrives), the CSV format=
// description and the CSV time fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "import/csv_format.h"
#include "import/csv_reader.h"
#include "import/text_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tsvault;
  if (size > 65536) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    import::TextLine parsed;
    (void)import::ParseTextLine(line, import::TextDialect::kPrometheus, &parsed);
    (void)import::ParseTextLine(line, import::TextDialect::kOpenMetrics, &parsed);
    start = end + 1;
  }

  // CSV in pieces whose sizes come from the input itself.
  import::CsvReader reader;
  size_t position = 0;
  import::CsvRecord record;
  Status error;
  while (position < text.size()) {
    const size_t piece = 1 + static_cast<uint8_t>(text[position]) % 97;
    reader.Append(text.substr(position, piece));
    position += piece;
    while (reader.Next(&record, &error)) {
    }
  }
  reader.Finish();
  while (reader.Next(&record, &error)) {
  }

  const size_t newline = text.find('\n');
  std::vector<import::CsvColumn> columns;
  if (import::ParseCsvFormat(text.substr(0, newline), &columns).ok() && newline != std::string_view::npos) {
    int64_t ms = 0;
    for (const import::CsvColumn& column : columns) {
      if (column.kind == import::CsvColumn::Kind::kTime) (void)import::ParseCsvTime(column, text.substr(newline + 1), &ms);
    }
  }
  return 0;
}
