#include "remote_write/response_text.h"

#include <algorithm>

namespace tsvault::remote_write {

namespace {

constexpr size_t kMaxStorageErrors = 10;
constexpr size_t kMaxLineBytes = 1024;

void AppendLine(std::string* out, const std::string& line) {
  out->append("  - ");
  if (line.size() > kMaxLineBytes) {
    out->append(line, 0, kMaxLineBytes);
    out->append("...");
  } else {
    out->append(line);
  }
  out->push_back('\n');
}

}  // namespace

std::string PartialWriteMessage(const IngestBatch& decoded, const storage::WriteResult& result) {
  std::string out = "partial write: ";
  if (decoded.series_rejected > 0) {
    out += std::to_string(decoded.series_rejected) + " of " + std::to_string(decoded.series_received) +
           " series rejected (" + std::to_string(decoded.samples_rejected) + " samples, " +
           std::to_string(decoded.histograms_rejected) + " histograms, " +
           std::to_string(decoded.exemplars_rejected) + " exemplars not written)";
  }
  if (decoded.metadata_rejected > 0) {
    if (decoded.series_rejected > 0) out += "; ";
    out += std::to_string(decoded.metadata_rejected) + " metadata entries rejected";
  }
  const uint64_t conflicts = result.samples_rejected;
  if (conflicts > 0) {
    if (decoded.has_rejections()) out += "; ";
    out += std::to_string(conflicts) +
           " samples rejected by storage (same timestamp as a stored sample, different value)";
  }
  if (result.samples_too_old > 0) {
    if (decoded.has_rejections() || conflicts > 0) out += "; ";
    out += std::to_string(result.samples_too_old) +
           " samples rejected by storage (older than the raw retention, --retention.resolution-raw)";
  }
  if (result.samples_series_limit > 0) {
    if (decoded.has_rejections() || conflicts > 0 || result.samples_too_old > 0) out += "; ";
    out += std::to_string(result.samples_series_limit) +
           " samples of new series rejected by storage (series limit reached, --storage.max-series)";
  }
  if (result.samples_out_of_bounds > 0) {
    if (decoded.has_rejections() || conflicts > 0 || result.samples_too_old > 0 || result.samples_series_limit > 0) {
      out += "; ";
    }
    out += std::to_string(result.samples_out_of_bounds) +
           " samples rejected by storage (timestamp outside years 0001 to 9999)";
  }
  out += "; everything else was written (" + std::to_string(result.samples_written) + " samples, " +
         std::to_string(result.histograms_written) + " histograms, " +
         std::to_string(result.exemplars_written) + " exemplars)\n";

  if (decoded.has_rejections()) {
    out += "rejected by reason:";
    for (size_t reason = 0; reason < kRejectReasonCount; ++reason) {
      if (decoded.rejected_by_reason[reason] == 0) continue;
      out += " ";
      out += RejectReasonName(static_cast<RejectReason>(reason));
      out += '=';
      out += std::to_string(decoded.rejected_by_reason[reason]);
    }
    out += "\n";
    for (const std::string& problem : decoded.problems) AppendLine(&out, problem);
    const uint64_t total = decoded.series_rejected + decoded.metadata_rejected;
    if (total > decoded.problems.size()) {
      out += "  - ... and " + std::to_string(total - decoded.problems.size()) + " more\n";
    }
  }
  if (!result.errors.empty()) {
    out += "refused by storage:\n";
    const size_t shown = std::min(result.errors.size(), kMaxStorageErrors);
    for (size_t i = 0; i < shown; ++i) AppendLine(&out, result.errors[i]);
    if (result.errors.size() > shown) {
      out += "  - ... and " + std::to_string(result.errors.size() - shown) + " more\n";
    }
  }
  return out;
}

}  // namespace tsvault::remote_write
