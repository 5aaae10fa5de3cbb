#include <chrono>
#include <thread>

#include "import/sinks.h"
#include "remote_write/ingester.h"

namespace tsvault::import {

namespace {

// How long a batch waits for room in the ingester's in-flight budget.
constexpr auto kReserveWait = std::chrono::seconds(10);

uint64_t ApproximateBytes(const storage::WriteInput& input) {
  uint64_t bytes = 0;
  for (const storage::SeriesWrite& series : input.series) {
    for (const Label& label : series.labels) bytes += label.name.size() + label.value.size() + 4;
    bytes += series.samples.size() * sizeof(storage::Sample);
  }
  return bytes;
}

class IngesterSink : public ImportSink {
 public:
  explicit IngesterSink(remote_write::Ingester* ingester) : ingester_(ingester) {}

  Status Write(storage::WriteInput* input, ImportReport* report) override {
    const uint64_t bytes = ApproximateBytes(*input);
    remote_write::InflightReservation reservation;
    const auto give_up = std::chrono::steady_clock::now() + kReserveWait;
    while (true) {
      ingester_->Reserve(bytes, &reservation);
      if (reservation.granted()) break;
      if (std::chrono::steady_clock::now() > give_up) {
        return Status::ResourceExhausted("the server is busy ingesting (" + std::to_string(reservation.in_flight_seen()) +
                                         " bytes in flight); try again later");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    uint64_t samples = 0;
    remote_write::IngestOutcome outcome;
    // No series cache is used (every series carries its labels), so the
    // Ingester calls this once and the input may be moved from.
    Status s = ingester_->Ingest(
        [&](const remote_write::SeriesRefCache*, remote_write::IngestBatch* batch) {
          for (storage::SeriesWrite& series : input->series) {
            batch->samples_received += series.samples.size();
            samples += series.samples.size();
            storage::SeriesWrite* valid = batch->AddValidatedSeries(std::move(series.labels), ingester_->label_limits());
            if (valid == nullptr) {
              batch->samples_rejected += series.samples.size();
              continue;
            }
            valid->samples = std::move(series.samples);
          }
          batch->input.metadata = std::move(input->metadata);
          return Status::OK();
        },
        &outcome);
    if (!s.ok()) return s;
    report->samples_accepted += outcome.result.samples_written;
    report->samples_refused += samples - outcome.result.samples_written;
    if (!outcome.partial_write_text.empty()) report->AddProblem(outcome.partial_write_text);
    return Status::OK();
  }

 private:
  remote_write::Ingester* ingester_;
};

}  // namespace

std::unique_ptr<ImportSink> NewIngesterSink(remote_write::Ingester* ingester) {
  return std::make_unique<IngesterSink>(ingester);
}

}  // namespace tsvault::import
