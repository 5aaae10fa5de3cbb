// Prometheus 2.42's JSON encoding of query results (web/api/v1 with
// jsoniter): values as strings ("1.5", "NaN", "+Inf", exponent form below
// 1e-6 and from 1e21), vector/matrix timestamps as seconds with up to three
// decimals, native histograms as {"count","sum","buckets"}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/labels.h"
#include "query/engine/engine.h"
#include "model/float_histogram.h"

namespace tsvault::query {

// Go encoding/json string escaping (HTML-safe, \u2028/\u2029, invalid
// UTF-8 as \ufffd), with the quotes.
void AppendJsonString(std::string_view text, std::string* out);
// A sample value as Prometheus writes it: "1.5", "1e-07", "+Inf", "NaN".
void AppendJsonSampleValue(double value, std::string* out);
// Milliseconds as seconds: 1435781451781 -> 1435781451.781, 1000 -> 1.
void AppendJsonTimestamp(int64_t ms, std::string* out);
// {"name":"value",...} sorted by name.
void AppendJsonLabels(const Labels& labels, std::string* out);
// {"count":"..","sum":"..","buckets":[[boundaries,"lower","upper","count"],...]}
void AppendJsonHistogram(const model::FloatHistogram& histogram, std::string* out);
// The "data" object of /api/v1/query and /api/v1/query_range:
// {"resultType":"vector","result":[...]}.
void AppendJsonQueryData(const QueryResult& result, std::string* out);

}  // namespace tsvault::query
