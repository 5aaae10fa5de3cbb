// Engine limits and robustness: sample limit, timeout, cancellation,
// range-query validation, and randomly generated expressions (every
// function, operator and aggregation) that must never crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <random>

#include "query/engine/engine.h"
#include "query/promql/functions.h"
#include "query/promql/parser.h"
#include "tests/unit/query/query_test_fixture.h"

namespace tsvault::query {
namespace {

class EngineLimitsTest : public QueryDBTest {
 protected:
  void SetUp() override {
    storage::WriteInput input;
    const char* names[] = {"m", "n"};
    for (int s = 0; s < 6; ++s) {
      storage::SeriesWrite w;
      w.labels = {{"__name__", names[s % 2]}, {"a", std::to_string(s % 3)}, {"le", s < 3 ? "1" : "+Inf"}};
      for (int64_t t = 0; t <= 600'000; t += 30'000) {
        double v = static_cast<double>((t / 30'000) * (s + 1) % 17);
        if (t == 300'000 && s == 1) v = std::bit_cast<double>(storage::kStaleNaNBits);
        if (t == 330'000 && s == 2) v = NAN;
        w.samples.push_back({t, v});
      }
      input.series.push_back(w);
    }
    storage::SeriesWrite h;
    h.labels = {{"__name__", "h"}, {"a", "0"}};
    for (int64_t t = 0; t <= 600'000; t += 60'000) {
      storage::Histogram hist;
      hist.timestamp_ms = t;
      hist.schema = static_cast<int32_t>(t / 60'000 % 3) - 1;
      hist.zero_threshold = t % 120'000 == 0 ? 0.001 : 0.5;
      hist.zero_count_int = 1;
      hist.count_int = static_cast<uint64_t>(1 + t / 60'000 * 3);
      hist.sum = static_cast<double>(t) / 1000;
      hist.positive_spans = {{-1, 2}, {1, 1}};
      hist.positive_deltas = {static_cast<int64_t>(t / 60'000), 1, -1};
      h.histograms.push_back(hist);
    }
    input.series.push_back(h);
    ASSERT_NO_FATAL_FAILURE(OpenDBWith(input));
  }
};

TEST_F(EngineLimitsTest, MaxSamples) {
  EngineOptions options;
  options.max_samples = 50;
  Engine engine(db_.get(), options);
  QueryResult result;
  Status s = engine.RangeQuery("m", 0, 600'000, 30'000, &result);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_EQ(s.message(), "query processing would load too many samples into memory in query execution");
  EXPECT_TRUE(result.matrix.empty());
  s = engine.InstantQuery("count_over_time(m[10m:30s])", 600'000, &result);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
  // A small query fits.
  EXPECT_TRUE(engine.InstantQuery("sum(m)", 600'000, &result).ok());
  options.max_samples = 3 * 21 + 21;
  Engine exact(db_.get(), options);
  EXPECT_TRUE(exact.RangeQuery("m", 0, 600'000, 30'000, &result).ok());
}

// label_join doubling a label, label_replace with a template repeating a
// group, label_join of a long label many times: each fails on the memory
// bound with an execution error naming it, before the memory is taken.
TEST_F(EngineLimitsTest, MemoryBoundCountsLabelStrings) {
  EngineOptions options;
  options.max_memory_bytes = 8 << 20;
  Engine engine(db_.get(), options);
  std::string doubling = "m";  // 2^24 bytes after 24 doublings of "m"
  for (int i = 0; i < 24; ++i) doubling = "label_join(" + doubling + ", \"__name__\", \"\", \"__name__\", \"__name__\")";
  // Three series with a 600 kB label (1.8 MB: within the bound).
  const std::string long_label = "label_replace(m, \"long\", \"" + std::string(600'000, 'z') + "\", \"a\", \".*\")";
  std::string repeated_group;
  for (int i = 0; i < 2000; ++i) repeated_group += "$1";
  const std::string queries[] = {
      doubling,
      "label_replace(" + long_label + ", \"x\", \"" + repeated_group + "\", \"long\", \"(.*)\")",
      "label_join(" + long_label + ", \"b\", \",\", \"long\", \"long\", \"long\", \"long\", \"long\", \"long\", "
      "\"long\", \"long\", \"long\", \"long\", \"long\", \"long\", \"long\", \"long\")",
  };
  for (const std::string& query : queries) {
    QueryResult result;
    Status s = engine.RangeQuery(query, 0, 600'000, 30'000, &result);
    ASSERT_TRUE(s.IsResourceExhausted()) << query.substr(0, 200) << ": " << s.ToString();
    EXPECT_NE(s.message().find("query processing would use more than 8 MiB of memory (--query.max-memory-bytes)"),
              std::string::npos)
        << s.message();
  }
  QueryResult result;
  ASSERT_TRUE(engine.RangeQuery("count(" + long_label + ")", 0, 600'000, 30'000, &result).ok());
  // The same engine answers ordinary queries afterwards.
  ASSERT_TRUE(engine.RangeQuery("sum by (a) (m)", 0, 600'000, 30'000, &result).ok());
  EXPECT_EQ(result.matrix.size(), 3u);
}

TEST_F(EngineLimitsTest, SamplesCountAgainstTheMemoryBound) {
  EngineOptions options;
  options.max_memory_bytes = 1 << 20;  // 65,536 samples of 16 bytes, less the label sets
  Engine engine(db_.get(), options);
  QueryResult result;
  Status instant = engine.InstantQuery("m[10m:1ms]", 600'000, &result);
  ASSERT_TRUE(instant.IsResourceExhausted()) << instant.ToString();
  EXPECT_NE(instant.message().find("--query.max-memory-bytes"), std::string::npos) << instant.message();
  ASSERT_TRUE(engine.InstantQuery("m[10m:10s]", 600'000, &result).ok());  // 3 x 61 points
}

TEST_F(EngineLimitsTest, AllQueriesTogetherStayWithinTheTotalBound) {
  EngineOptions options;
  options.max_memory_bytes = 64 << 20;
  options.max_total_memory_bytes = 6 << 20;  // one 4 MiB step fits, a second does not
  Engine engine(db_.get(), options);
  QueryResult result;
  Status s = engine.InstantQuery("m[10m:5ms]", 600'000, &result);  // 3 x 120,000 points: about 6 MiB
  ASSERT_TRUE(s.IsResourceExhausted()) << s.ToString();
  EXPECT_NE(s.message().find("all queries may use together (--query.max-total-memory-bytes)"), std::string::npos)
      << s.message();
  // Every query returns its share: many small queries in a row all run.
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(engine.RangeQuery("rate(m[1m])", 0, 600'000, 30'000, &result).ok()) << i;
  }
}

TEST_F(EngineLimitsTest, TimeoutAndCancel) {
  Engine engine(db_.get(), EngineOptions());
  QueryResult result;
  QueryControl timeout;
  timeout.timeout = std::chrono::milliseconds(0);
  Status s = engine.InstantQuery("m", 0, &result, timeout);
  EXPECT_EQ(s.code(), Status::Code::kDeadlineExceeded);
  EXPECT_EQ(s.message(), "query timed out in expression evaluation");
  std::atomic<bool> cancelled{true};
  QueryControl cancel;
  cancel.cancelled = &cancelled;
  s = engine.InstantQuery("m", 0, &result, cancel);
  EXPECT_EQ(s.code(), Status::Code::kCancelled);
  EXPECT_EQ(s.message(), "query was canceled in expression evaluation");
  EngineOptions options;
  options.timeout = std::chrono::milliseconds(0);
  Engine expired(db_.get(), options);
  EXPECT_EQ(expired.InstantQuery("1", 0, &result).code(), Status::Code::kDeadlineExceeded);
}

TEST_F(EngineLimitsTest, SubqueriesWithTinyStepsEndWithinTheTimeout) {
  // A year at a 1 ms step is 3e10 steps; the data lies in the last ten
  // minutes, so almost every step finds nothing (no sample counted): only
  // the timeout can end these. They must end soon after it.
  Engine engine(db_.get(), EngineOptions());
  for (const char* query : {"count_over_time(m[1y:1ms])", "rate(m[1y:1ms])", "sum(label_replace(m[1y:1ms], \"x\", \"y\", \"a\", \".*\"))",
                            "quantile_over_time(0.5, (m > 100)[1y:1ms])"}) {
    QueryResult result;
    QueryControl control;
    control.timeout = std::chrono::milliseconds(300);
    const auto began = std::chrono::steady_clock::now();
    Status s = engine.InstantQuery(query, 600'000, &result, control);
    const auto took = std::chrono::steady_clock::now() - began;
    EXPECT_TRUE(s.code() == Status::Code::kDeadlineExceeded || s.IsResourceExhausted() || s.IsInvalidArgument())
        << query << ": " << s.ToString();
    // Generous for a loaded machine: without the checks these run for minutes.
    EXPECT_LT(took, std::chrono::seconds(10)) << query;
  }
  // A constant over a 1 ms subquery step: the steps alone exceed the sample
  // limit, refused before anything is allocated for them.
  QueryResult result;
  Status s = engine.InstantQuery("max_over_time(vector(1)[1y:1ms])", 600'000, &result);
  EXPECT_TRUE(s.IsResourceExhausted()) << s.ToString();
}

TEST_F(EngineLimitsTest, RangeQueryValidation) {
  Engine engine(db_.get(), EngineOptions());
  QueryResult result;
  EXPECT_TRUE(engine.RangeQuery("m", 0, 10, 0, &result).IsInvalidArgument());
  EXPECT_TRUE(engine.RangeQuery("m", 10, 0, 1, &result).IsInvalidArgument());
  EXPECT_TRUE(engine.RangeQuery("m", 0, 11'001, 1, &result).IsInvalidArgument());
  EXPECT_TRUE(engine.RangeQuery("m", 0, 11'000, 1, &result).ok());
  Status s = engine.RangeQuery("m[5m]", 0, 10, 1, &result);
  EXPECT_EQ(s.message(), "invalid expression type \"range vector\" for range query, must be Scalar or instant Vector");
  s = engine.RangeQuery("\"x\"", 0, 10, 1, &result);
  EXPECT_EQ(s.message(), "invalid expression type \"string\" for range query, must be Scalar or instant Vector");
  EXPECT_TRUE(engine.InstantQuery("m +", 0, &result).IsInvalidArgument());
  // An instant query of a range selector returns the raw samples.
  ASSERT_TRUE(engine.InstantQuery("m{a=\"0\"}[1m]", 60'000, &result).ok());
  ASSERT_EQ(result.type, ResultType::kMatrix);
  ASSERT_EQ(result.matrix.size(), 1u);
  EXPECT_EQ(result.matrix[0].floats.size(), 3u);
  EXPECT_EQ(result.matrix[0].floats[0].timestamp_ms, 0);
}

// Builds random, mostly well-typed expressions.
class ExpressionGenerator {
 public:
  explicit ExpressionGenerator(uint32_t seed) : rng_(seed) {}

  std::string Of(promql::ValueType type, int depth) {
    switch (type) {
      case promql::ValueType::kScalar: return Scalar(depth);
      case promql::ValueType::kVector: return Vector(depth);
      case promql::ValueType::kMatrix: return Matrix(depth);
      case promql::ValueType::kString: return Pick({"\"a\"", "\"le\"", "\".*\"", "\"$1\"", "\"(.)\"", "\"\""});
      default: return "1";
    }
  }

 private:
  std::string Pick(std::initializer_list<const char*> options) {
    std::vector<const char*> v(options);
    return v[Next(v.size())];
  }
  size_t Next(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  std::string Scalar(int depth) {
    if (depth <= 0) return Pick({"1", "0", "-1", "0.5", "2", "NaN", "Inf", "-Inf", "1e300", "0.25"});
    switch (Next(4)) {
      case 0: return "scalar(" + Vector(depth - 1) + ")";
      case 1: return Scalar(depth - 1) + " " + Pick({"+", "-", "*", "/", "%", "^", "atan2", "== bool", "> bool"}) +
                     " " + Scalar(depth - 1);
      case 2: return Pick({"time()", "pi()"});
      default: return Scalar(0);
    }
  }

  std::string Selector() {
    return Pick({"m", "n", "h", "m{a=\"1\"}", "{__name__=~\"m|n\"}", "n offset 1m", "m @ 120", "m offset -1m",
                 "{__name__=~\".+\"}", "nonexistent", "m @ start()", "h @ end()"});
  }

  std::string Matrix(int depth) {
    if (depth <= 0 || Next(3) > 0) {
      return Selector() + Pick({"[1m]", "[5m]", "[30s]", "[10m]"});
    }
    return "(" + Vector(depth - 1) + ")" + Pick({"[5m:1m]", "[2m:]", "[3m:45s] offset 30s", "[5m:1m] @ 300"});
  }

  std::string Vector(int depth) {
    if (depth <= 0) return Selector();
    switch (Next(7)) {
      case 0: {
        const std::string op = Pick({"+", "-", "*", "/", "%", "^", "==", "!=", ">", "<=", "and", "or", "unless",
                                     "atan2", "> bool"});
        std::string matching = Pick({"", "", " on(a)", " ignoring(le)", " on(a) group_left", " on(a) group_right(le)",
                                     " ignoring(a) group_left(le)"});
        if (op == "and" || op == "or" || op == "unless") matching = Pick({"", " on(a)", " ignoring(le)"});
        return Vector(depth - 1) + " " + op + matching + " " + Vector(depth - 1);
      }
      case 1:
        return Vector(depth - 1) + " " + Pick({"+", "*", "/", ">", "< bool", "^"}) + " " + Scalar(depth - 1);
      case 2: {
        const std::string op = Pick({"sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk",
                                     "bottomk", "quantile", "count_values"});
        std::string param;
        if (op == "topk" || op == "bottomk" || op == "quantile") param = Scalar(depth - 1) + ", ";
        if (op == "count_values") param = Pick({"\"v\", ", "\"a\", ", "\"bad-label\", "});
        return op + Pick({"", " by (a)", " without (le)", " by (le, a)", " by (__name__)"}) + " (" + param +
               Vector(depth - 1) + ")";
      }
      case 3:
      case 4: {
        const auto& functions = promql::AllFunctions();
        const promql::Function& f = functions[Next(functions.size())];
        if (f.return_type != promql::ValueType::kVector) return Selector();
        std::string call = std::string(f.name) + "(";
        size_t count = f.arg_types.size();
        if (f.variadic > 0 && count > 0) count = count - 1 + Next(static_cast<size_t>(f.variadic) + 1);
        if (f.variadic < 0 && count > 0) count = count - 1 + Next(3);
        for (size_t i = 0; i < count; ++i) {
          const promql::ValueType type = f.arg_types[std::min(i, f.arg_types.size() - 1)];
          if (i > 0) call += ", ";
          call += Of(type, depth - 1);
        }
        return call + ")";
      }
      case 5:
        return Pick({"-", "+", ""}) + std::string("(") + Vector(depth - 1) + ")";
      default:
        return Selector();
    }
  }

  std::mt19937 rng_;
};

TEST_F(EngineLimitsTest, RandomExpressionsNeverCrash) {
  Engine engine(db_.get(), EngineOptions());
  for (uint32_t seed : {20240601u, 7u, 99u}) {
    ExpressionGenerator generator(seed);
    int parsed = 0, succeeded = 0;
    for (int i = 0; i < 1500; ++i) {
      const std::string query = generator.Of(promql::ValueType::kVector, 1 + i % 4);
      std::unique_ptr<promql::Expr> expr;
      if (!ParseExpr(query, &expr).ok()) continue;
      ++parsed;
      QueryResult instant;
      Status s = engine.InstantQuery(query, 300'000 + (i % 7) * 15'000, &instant);
      ASSERT_TRUE(s.ok() || s.IsResourceExhausted() || s.IsInvalidArgument()) << query << ": " << s.ToString();
      if (s.ok()) ++succeeded;
      QueryResult range;
      s = engine.RangeQuery(query, 0, 600'000, 30'000 + (i % 5) * 7'000, &range);
      ASSERT_TRUE(s.ok() || s.IsResourceExhausted() || s.IsInvalidArgument()) << query << ": " << s.ToString();
      if (s.ok()) {
        ASSERT_EQ(range.type, ResultType::kMatrix);
        for (size_t k = 1; k < range.matrix.size(); ++k) {
          ASSERT_LT(CompareLabels(range.matrix[k - 1].labels, range.matrix[k].labels), 0) << query;
        }
      }
    }
    EXPECT_GT(parsed, 1000) << seed;
    EXPECT_GT(succeeded, 500) << seed;
  }
}

}  // namespace
}  // namespace tsvault::query
