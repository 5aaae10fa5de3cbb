#include "query/api/export_csv_query.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "query/promql/text.h"

namespace tsvault::query {

namespace {

constexpr int64_t kDayMs = 86'400'000;
int HttpStatusOf(const Status& status) {
  if (status.IsInvalidArgument()) return 400;
  if (status.IsResourceExhausted()) return 422;
  if (status.code() == Status::Code::kDeadlineExceeded) return 503;
  return 500;
}

// "level=easy type=email": the labels that tell the series apart (all of
// them for a single series), the metric name bare. "value" when none.
std::vector<std::string> ColumnNames(const std::vector<ResultSeries>& series) {
  std::map<std::string, std::set<std::string>> values;  // label -> values seen
  for (const ResultSeries& one : series) {
    for (const Label& label : one.labels) values[label.name].insert(label.value);
  }
  std::vector<std::string> names;
  for (const ResultSeries& one : series) {
    std::string name;
    for (const Label& label : one.labels) {
      const bool varies = series.size() == 1 || values[label.name].size() > 1 ||
                          std::any_of(series.begin(), series.end(), [&](const ResultSeries& other) {
                            return std::none_of(other.labels.begin(), other.labels.end(),
                                                [&](const Label& l) { return l.name == label.name; });
                          });
      if (!varies) continue;
      if (!name.empty()) name.push_back(' ');
      name += label.name == "__name__" ? label.value : label.name + "=" + label.value;
    }
    names.push_back(name.empty() ? "value" : name);
  }
  return names;
}

// Writes the rows of a computed result, a piece at a time.
class CsvQueryBody {
 public:
  CsvQueryBody(CsvQueryRequest request, std::vector<ResultSeries> series)
      : request_(std::move(request)), series_(std::move(series)),
        gzip_(request_.gzip ? std::make_unique<Gzip>() : nullptr) {
    if (request_.wide) {
      std::set<int64_t> times;
      for (const ResultSeries& one : series_) {
        for (const FloatPoint& point : one.floats) times.insert(point.timestamp_ms);
      }
      times_.assign(times.begin(), times.end());
      cursors_.assign(series_.size(), 0);
    } else if (request_.columns.empty()) {
      // __name__ (if any series has one), every label, timestamp, value.
      std::set<std::string> names;
      for (const ResultSeries& one : series_) {
        for (const Label& label : one.labels) names.insert(label.name);
      }
      if (names.count("__name__") > 0) request_.columns.push_back({CsvColumn::Kind::kMetricName, "", {}, "__name__", {}});
      for (const std::string& name : names) {
        if (name != "__name__") request_.columns.push_back({CsvColumn::Kind::kLabel, name, {}, name, {}});
      }
      request_.columns.push_back(request_.timestamp);
      request_.columns.push_back({CsvColumn::Kind::kValue, "", {}, "value", {}});
    }
  }

  bool ready() const { return !gzip_ || gzip_->ok(); }

  http::BodyStep Next(std::string* piece) {
    std::string csv;
    if (request_.header) {
      request_.header = false;
      if (request_.wide) {
        AppendCsvField(request_.timestamp.header, &csv);
        for (const std::string& name : ColumnNames(series_)) {
          csv.push_back(',');
          AppendCsvField(name, &csv);
        }
        csv.push_back('\n');
      } else {
        AppendCsvHeader(request_.columns, &csv);
      }
    }
    const bool end = request_.wide ? WideRows(&csv) : LongRows(&csv);
    return EmitCsvPiece(gzip_.get(), std::move(csv), end, piece);
  }

 private:
  // True at the end.
  bool WideRows(std::string* csv) {
    while (csv->size() < kCsvPieceBytes) {
      if (row_ >= times_.size()) return true;
      const int64_t t = times_[row_++];
      AppendCsvTimestamp(t, request_.timestamp, request_.zone, csv);
      for (size_t s = 0; s < series_.size(); ++s) {
        csv->push_back(',');
        const std::vector<FloatPoint>& points = series_[s].floats;
        size_t& at = cursors_[s];
        while (at < points.size() && points[at].timestamp_ms < t) ++at;
        if (at < points.size() && points[at].timestamp_ms == t) csv->append(promql::FormatGoFloatFixed(points[at].value));
      }
      csv->push_back('\n');
    }
    return false;
  }

  bool LongRows(std::string* csv) {
    while (csv->size() < kCsvPieceBytes) {
      if (series_index_ >= series_.size()) return true;
      const ResultSeries& series = series_[series_index_];
      if (point_ == 0) CsvLabelFields(request_.columns, series.labels, &label_fields_);
      if (point_ >= series.floats.size()) {
        ++series_index_;
        point_ = 0;
        continue;
      }
      const FloatPoint& point = series.floats[point_++];
      AppendCsvRow(request_.columns, label_fields_, point.timestamp_ms, point.value, request_.zone, csv);
    }
    return false;
  }

  CsvQueryRequest request_;
  std::vector<ResultSeries> series_;
  std::unique_ptr<Gzip> gzip_;
  // wide
  std::vector<int64_t> times_;
  std::vector<size_t> cursors_;
  size_t row_ = 0;
  // long
  size_t series_index_ = 0;
  size_t point_ = 0;
  std::vector<std::string> label_fields_;
};

}  // namespace

std::vector<StepRun> CsvStepRuns(int64_t start_ms, int64_t end_ms, int64_t step_ms, const TimeZone& zone) {
  if (zone.is_utc() || step_ms % kDayMs != 0) return {{start_ms, end_ms, step_ms}};
  std::vector<int64_t> times;
  for (int64_t t = zone.NextMidnight(start_ms); t <= end_ms; t = zone.AddDays(t, step_ms / kDayMs)) times.push_back(t);
  std::vector<StepRun> runs;
  for (size_t i = 0; i < times.size();) {
    if (i + 1 == times.size()) {
      runs.push_back({times[i], times[i], step_ms});
      break;
    }
    const int64_t spacing = times[i + 1] - times[i];
    size_t last = i + 1;
    while (last + 1 < times.size() && times[last + 1] - times[last] == spacing) ++last;
    runs.push_back({times[i], times[last], spacing});
    i = last + 1;
  }
  return runs;
}

void AnswerCsvQuery(const Engine* engine, CsvQueryRequest request, http::Response* response) {
  // Every query at every run of step times; the points of one series
  // (same labels) from all of them joined in time order.
  std::map<Labels, ResultSeries> merged;
  const std::vector<StepRun> runs = CsvStepRuns(request.start_ms, request.end_ms, request.step_ms, request.zone);
  for (const std::string& query : request.queries) {
    for (const StepRun& run : runs) {
      QueryResult result;
      QueryControl control;
      control.cancelled = request.cancelled;
      Status s = engine->RangeQuery(query, run.start_ms, run.end_ms, run.step_ms, &result, control);
      if (!s.ok()) {
        const std::string what = s.IsInvalidArgument() ? "invalid parameter \"query\": " : "query failed: ";
        return CsvError(HttpStatusOf(s), what + s.message(), response);
      }
      for (ResultSeries& series : result.matrix) {
        ResultSeries& into = merged[series.labels];
        into.labels = series.labels;
        into.floats.insert(into.floats.end(), series.floats.begin(), series.floats.end());
      }
    }
  }
  std::vector<ResultSeries> series;
  series.reserve(merged.size());
  for (auto& [labels, one] : merged) {
    std::stable_sort(one.floats.begin(), one.floats.end(),
                     [](const FloatPoint& a, const FloatPoint& b) { return a.timestamp_ms < b.timestamp_ms; });
    one.floats.erase(std::unique(one.floats.begin(), one.floats.end(),
                                 [](const FloatPoint& a, const FloatPoint& b) { return a.timestamp_ms == b.timestamp_ms; }),
                     one.floats.end());
    series.push_back(std::move(one));
  }
  const bool gzip = request.gzip;
  auto body = std::make_shared<CsvQueryBody>(std::move(request), std::move(series));
  if (!body->ready()) return CsvError(500, "cannot set up gzip compression", response);
  response->status = 200;
  response->headers = {{"Content-Type", "text/csv; charset=utf-8"}, {"Vary", "Accept-Encoding"}};
  if (gzip) response->headers.push_back({"Content-Encoding", "gzip"});
  response->body_source = [body](std::string* piece) { return body->Next(piece); };
}

}  // namespace tsvault::query
