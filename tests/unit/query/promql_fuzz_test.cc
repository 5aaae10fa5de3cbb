// Randomised robustness: mutated PromQL never crashes the lexer, parser,
// printer or preprocessor, and always yields OK or InvalidArgument. Inputs
// that parse must print to text that parses to the same printed form.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "query/promql/lexer.h"
#include "query/promql/parser.h"
#include "query/promql/preprocess.h"
#include "query/promql/printer.h"

namespace tsvault::query::promql {
namespace {

const std::vector<std::string>& Seeds() {
  static const std::vector<std::string> seeds = {
      "sum by (job) (rate(http_requests_total{code=~\"5..\", method!=\"GET\"}[5m]))",
      "histogram_quantile(0.99, sum without (instance) (rate(foo_bucket[1m] offset -5m)))",
      "a / on (instance) group_left (job, env) b > bool 0.5",
      "topk(3, foo @ start()) or bottomk by (x) (2, bar) unless baz and qux",
      "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091 offset 1h)[4m:3s]",
      "-1 ^ 2 * 3 % 4 atan2 5 + -foo - +bar",
      "label_replace(up, \"dst\", \"$1\", 'src', `(.*)`) # comment\n + 0x1F - .5e3 - Inf",
      "count_values(\"v\", foo) == bool on() group_right () vector(1)",
      "quantile(0.9, foo) / ignoring(a) sum(bar) without (b)",
      "absent_over_time(nonexistent{job=\"x\"}[10m]) + time() + pi()",
      "{__name__=~\"job:.*\", a=\"\\u00e9\\x41\"} offset 1y2w3d",
      "round(clamp(foo @ end(), -1, NaN), 0.1)",
  };
  return seeds;
}

// Fragments spliced into inputs to reach interesting states.
const char* const kFragments[] = {
    "(", ")", "[", "]", "{", "}", ",", ":", "@", "\"", "'", "`", "\\", "#", "\n", " ",
    "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "start()", "end()", "sum", "rate", "5m", "1h30m", "0", "-", "+", "*", "^", "==", "=~",
    "!~", "!=", "and", "or", "unless", "atan2", "1e", "0x", "Inf", "NaN", "foo", "[5m:1m]",
    "\xff", "\xc3", "é", "\x00",
};

std::string Mutate(const std::string& seed, std::mt19937* rng) {
  std::string text = seed;
  const int mutations = 1 + static_cast<int>((*rng)() % 4);
  for (int m = 0; m < mutations; ++m) {
    const size_t pos = text.empty() ? 0 : (*rng)() % (text.size() + 1);
    switch ((*rng)() % 6) {
      case 0:  // delete a span
        if (!text.empty()) text.erase(std::min(pos, text.size() - 1), 1 + (*rng)() % 5);
        break;
      case 1:  // insert a random byte
        text.insert(pos, 1, static_cast<char>((*rng)() % 256));
        break;
      case 2: {  // insert a fragment
        const std::string fragment = kFragments[(*rng)() % std::size(kFragments)];
        text.insert(pos, fragment);
        break;
      }
      case 3:  // replace a byte with a printable one
        if (!text.empty()) text[std::min(pos, text.size() - 1)] = static_cast<char>(32 + (*rng)() % 95);
        break;
      case 4: {  // splice in part of another seed
        const std::string& other = Seeds()[(*rng)() % Seeds().size()];
        const size_t from = (*rng)() % other.size();
        text.insert(pos, other.substr(from, 1 + (*rng)() % 12));
        break;
      }
      default:  // duplicate a span
        if (!text.empty()) {
          const size_t from = (*rng)() % text.size();
          text.insert(pos, text.substr(from, 1 + (*rng)() % 8));
        }
        break;
    }
  }
  return text;
}

TEST(PromqlFuzzTest, MutatedInputsNeverCrash) {
  for (const std::string& seed : Seeds()) {
    std::unique_ptr<Expr> expr;
    Status status = ParseExpr(seed, &expr);
    ASSERT_TRUE(status.ok()) << seed << ": " << status.ToString();
  }
  std::mt19937 rng(20240611);
  int parsed = 0;
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string input = Mutate(Seeds()[rng() % Seeds().size()], &rng);

    Lexer lexer(input);
    for (int n = 0; n < 100000 && lexer.Next().type != TokenType::kEof;) ++n;

    std::unique_ptr<Expr> expr;
    Status status = ParseExpr(input, &expr);
    if (!status.ok()) {
      ASSERT_TRUE(status.IsInvalidArgument()) << input << ": " << status.ToString();
      ASSERT_NE(status.message().find(": parse error: "), std::string::npos) << status.message();
      ASSERT_EQ(expr, nullptr);
      ++rejected;
      continue;
    }
    ++parsed;
    ASSERT_NE(expr, nullptr);
    const std::string printed = ExprToString(*expr);
    std::unique_ptr<Expr> reparsed;
    Status reparse_status = ParseExpr(printed, &reparsed);
    ASSERT_TRUE(reparse_status.ok()) << "input: " << input << "\nprinted: " << printed << "\n"
                                     << reparse_status.ToString();
    // Prometheus prints +Inf with its sign, and "+Inf ^ 2" re-parses as the
    // (equal-valued) unary plus of "Inf ^ 2"; all other text is stable.
    if (printed.find("+Inf") == std::string::npos) {
      ASSERT_EQ(ExprToString(*reparsed), printed) << "input: " << input;
    }
    ASSERT_EQ(reparsed->Type(), expr->Type()) << "input: " << input;
    PreprocessExpr(&expr, 0, 60000);
    ExprToString(*expr);

    std::vector<storage::LabelMatcher> matchers;
    Status selector_status = ParseMetricSelector(input, &matchers);
    ASSERT_TRUE(selector_status.ok() || selector_status.IsInvalidArgument()) << selector_status.ToString();
  }
  // The mutations must exercise both outcomes for the test to mean anything.
  EXPECT_GT(parsed, 500);
  EXPECT_GT(rejected, 5000);
}

}  // namespace
}  // namespace tsvault::query::promql
