#include "remote_write/ingest_batch.h"

namespace tsvault::remote_write {

void IngestBatch::RecordProblem(RejectReason reason, const std::string& detail,
                                const std::string& labels_description) {
  rejected_by_reason[static_cast<size_t>(reason)]++;
  if (problems.size() < kMaxReportedProblems) {
    std::string text = RejectReasonName(reason);
    text.append(": ");
    text.append(detail);
    if (!labels_description.empty()) {
      text.append(" in ");
      text.append(labels_description);
    }
    problems.push_back(std::move(text));
  }
}

storage::SeriesWrite* IngestBatch::AddValidatedSeries(Labels labels, const model::LabelLimits& limits) {
  ++series_received;
  model::LabelProblem problem;
  if (!model::CanonicalizeLabels(&labels, limits, model::LabelSetKind::kSeries,
                                 /*utf8_already_checked=*/false, &problem)) {
    ++series_rejected;
    RecordProblem(RejectReasonFor(problem.kind), problem.detail, model::DescribeLabelsForError(labels));
    return nullptr;
  }
  storage::SeriesWrite& series = AddSeries();
  series.labels = std::move(labels);
  return &series;
}

}  // namespace tsvault::remote_write
