// MemPostings::Select: the paths of the optimized selection (equality lists
// intersected shortest first, regex selections filtering the result or
// merged first when small, negative matchers subtracting, early exits) and
// a randomized comparison against a brute-force scan of every series.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "storage/mem_postings.h"

namespace tsvault::storage {
namespace {

LabelMatcher M(MatchType type, const std::string& name, const std::string& value) {
  LabelMatcher m;
  EXPECT_TRUE(LabelMatcher::Create(type, name, value, &m).ok()) << name << " " << value;
  return m;
}

// A MemPostings plus the series it holds, to answer selections by brute
// force: a series matches when every matcher accepts its value of the
// matcher's label ("" when it has no such label).
class Corpus {
 public:
  void Add(uint64_t id, Labels labels) {
    postings_.Add(id, labels);
    series_[id] = std::move(labels);
  }

  SeriesIds BruteForce(const std::vector<LabelMatcher>& matchers) const {
    SeriesIds ids;
    for (const auto& [id, labels] : series_) {
      bool all = true;
      for (const LabelMatcher& matcher : matchers) {
        std::string value;
        for (const Label& label : labels) {
          if (label.name == matcher.name()) value = label.value;
        }
        all = all && matcher.Matches(value);
      }
      if (all) ids.push_back(id);
    }
    return ids;
  }

  const MemPostings& postings() const { return postings_; }

 private:
  MemPostings postings_;
  std::map<uint64_t, Labels> series_;
};

std::string Describe(const std::vector<LabelMatcher>& matchers) {
  std::string text = "{";
  for (const LabelMatcher& matcher : matchers) text += matcher.ToString() + ",";
  return text + "}";
}

// 300 series of metric "m" over `route` values r000..r299, one per value,
// plus a "big" metric holding every id (ids 1..300, then 1001..1300).
Corpus ManyValuesCorpus() {
  Corpus corpus;
  char route[8];
  for (uint64_t i = 0; i < 300; ++i) {
    std::snprintf(route, sizeof(route), "r%03u", static_cast<unsigned>(i));
    corpus.Add(i + 1, {{"__name__", "m"}, {"route", route}, {"shard", i % 2 == 0 ? "even" : "odd"}});
    corpus.Add(i + 1001, {{"__name__", "big"}, {"route", route}});
  }
  return corpus;
}

TEST(MemPostingsSelectTest, RegexOverManyValues) {
  const Corpus corpus = ManyValuesCorpus();
  const std::vector<std::vector<LabelMatcher>> cases = {
      // A regex alone: the k-way merge of 200 value lists.
      {M(MatchType::kRegexMatch, "route", "r[0-1].*")},
      // With an equality: the equality result filtered by 200 lists.
      {M(MatchType::kEqual, "__name__", "m"), M(MatchType::kRegexMatch, "route", "r[0-1].*")},
      // Two regexes over the same label and one over another.
      {M(MatchType::kRegexMatch, "route", "r1.*"), M(MatchType::kRegexMatch, "route", ".*7"),
       M(MatchType::kRegexMatch, "shard", "o.*")},
      // A few values against a long equality result (merged first).
      {M(MatchType::kEqual, "__name__", "big"), M(MatchType::kRegexMatch, "route", "r00[1-3]")},
      {M(MatchType::kRegexMatch, "route", ".+"), M(MatchType::kNotEqual, "route", "r005")},
  };
  for (const auto& matchers : cases) {
    const SeriesIds expected = corpus.BruteForce(matchers);
    EXPECT_FALSE(expected.empty()) << Describe(matchers);
    EXPECT_EQ(corpus.postings().Select(matchers), expected) << Describe(matchers);
  }
  // Spot checks that the brute force itself is right.
  EXPECT_EQ(corpus.postings().Select(cases[3]), (SeriesIds{1002, 1003, 1004}));
  EXPECT_EQ(corpus.postings().Select(cases[1]).size(), 200u);
  EXPECT_EQ(corpus.postings().Select(cases[0]).size(), 400u);
}

TEST(MemPostingsSelectTest, MixedEqualityRegexAndNegativeMatchers) {
  Corpus corpus;
  corpus.Add(1, {{"__name__", "http"}, {"job", "api"}, {"code", "200"}, {"path", "/a"}});
  corpus.Add(2, {{"__name__", "http"}, {"job", "api"}, {"code", "500"}, {"path", "/b"}});
  corpus.Add(3, {{"__name__", "http"}, {"job", "api"}, {"code", "404"}});
  corpus.Add(4, {{"__name__", "http"}, {"job", "web"}, {"code", "500"}, {"path", "/a"}});
  corpus.Add(6, {{"__name__", "http"}, {"job", "api"}, {"code", "503"}, {"path", "/c"}});
  corpus.Add(9, {{"__name__", "cpu"}, {"job", "api"}});
  const MemPostings& postings = corpus.postings();
  using V = std::vector<LabelMatcher>;
  // code=~"5.." keeps 2, 4, 6; job="api" drops 4; path!="/c" drops 6.
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "__name__", "http"), M(MatchType::kRegexMatch, "code", "5.."),
                              M(MatchType::kEqual, "job", "api"), M(MatchType::kNotEqual, "path", "/c")}),
            (SeriesIds{2}));
  // path="" (absent) with a regex: only 3 lacks path.
  EXPECT_EQ(postings.Select(V{M(MatchType::kRegexMatch, "code", "[45].*"), M(MatchType::kEqual, "path", "")}),
            (SeriesIds{3}));
  // A regex that accepts "" is negative: keeps series without path too.
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "job", "api"), M(MatchType::kRegexMatch, "path", "/a|")}),
            (SeriesIds{1, 3, 9}));
  // !~ accepting "" subtracts the matched values.
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "job", "api"), M(MatchType::kRegexNoMatch, "code", "2..|5..")}),
            (SeriesIds{3, 9}));
  // != "" is positive: series having the label.
  EXPECT_EQ(postings.Select(V{M(MatchType::kNotEqual, "path", ""), M(MatchType::kRegexNoMatch, "path", "/a")}),
            (SeriesIds{2, 6}));
  // Only negative matchers: start from every series.
  EXPECT_EQ(postings.Select(V{M(MatchType::kNotEqual, "job", "api"), M(MatchType::kEqual, "code", "")}),
            SeriesIds{});
  EXPECT_EQ(postings.Select(V{M(MatchType::kNotEqual, "job", "web"), M(MatchType::kEqual, "path", "")}),
            (SeriesIds{3, 9}));
  // A negative matcher on a label nobody has removes nothing.
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "__name__", "cpu"), M(MatchType::kNotEqual, "nope", "x")}),
            (SeriesIds{9}));
}

TEST(MemPostingsSelectTest, EmptyResultsExitEarly) {
  const Corpus corpus = ManyValuesCorpus();
  const MemPostings& postings = corpus.postings();
  using V = std::vector<LabelMatcher>;
  // Disjoint equality lists, then a regex that would match a lot.
  EXPECT_TRUE(postings.Select(V{M(MatchType::kEqual, "__name__", "big"), M(MatchType::kEqual, "shard", "odd"),
                                M(MatchType::kRegexMatch, "route", ".*")})
                  .empty());
  // An equality on an absent value or label, whatever comes after.
  EXPECT_TRUE(postings.Select(V{M(MatchType::kRegexMatch, "route", ".*"), M(MatchType::kEqual, "route", "zzz")})
                  .empty());
  EXPECT_TRUE(postings.Select(V{M(MatchType::kEqual, "absent", "x"), M(MatchType::kNotEqual, "route", "r001")})
                  .empty());
  // A regex matching no value, before or after an equality.
  EXPECT_TRUE(postings.Select(V{M(MatchType::kRegexMatch, "route", "x.*"), M(MatchType::kEqual, "__name__", "m")})
                  .empty());
  EXPECT_TRUE(postings.Select(V{M(MatchType::kRegexMatch, "absent", ".+")}).empty());
  // Two regexes whose selections are disjoint.
  EXPECT_TRUE(postings.Select(V{M(MatchType::kRegexMatch, "route", "r00.*"), M(MatchType::kRegexMatch, "route", "r1.*")})
                  .empty());
  // Negative matchers removing everything.
  EXPECT_TRUE(postings.Select(V{M(MatchType::kEqual, "__name__", "m"), M(MatchType::kNotEqual, "shard", "odd"),
                                M(MatchType::kNotEqual, "shard", "even")})
                  .empty());
}

TEST(MemPostingsSelectTest, VerySkewedListSizes) {
  // "common" holds 100,000 series; "rare" a handful spread across them and
  // beyond, so intersections gallop through the long list.
  Corpus corpus;
  for (uint64_t id = 1; id <= 100'000; ++id) {
    Labels labels{{"__name__", "common"}, {"bucket", std::to_string(id % 1000)}};
    if (id == 1 || id == 4'242 || id == 77'777 || id == 100'000) labels.push_back({"rare", "yes"});
    corpus.Add(id, labels);
  }
  corpus.Add(100'001, {{"__name__", "other"}, {"rare", "yes"}});
  const MemPostings& postings = corpus.postings();
  using V = std::vector<LabelMatcher>;
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "__name__", "common"), M(MatchType::kEqual, "rare", "yes")}),
            (SeriesIds{1, 4'242, 77'777, 100'000}));
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "rare", "yes"), M(MatchType::kRegexMatch, "bucket", "77.|0")}),
            (SeriesIds{77'777, 100'000}));
  EXPECT_EQ(postings.Select(V{M(MatchType::kEqual, "rare", "yes"), M(MatchType::kNotEqual, "__name__", "common")}),
            (SeriesIds{100'001}));
  const V subtract_rare{M(MatchType::kEqual, "__name__", "common"), M(MatchType::kNotEqual, "rare", "yes")};
  const SeriesIds without_rare = postings.Select(subtract_rare);
  ASSERT_EQ(without_rare.size(), 99'996u);
  EXPECT_EQ(without_rare, corpus.BruteForce(subtract_rare));
}

// A random label set over a few names with skewed value frequencies (some
// values common, many rare), sometimes with an empty value.
Labels RandomLabels(std::mt19937_64& rng) {
  static const char* const kNames[] = {"__name__", "a", "b", "c", "d"};
  static const char* const kValues[] = {"x", "y", "z", "xy", "yz", "x1", "x2", "foo", "bar", "baz", "", "x.y"};
  Labels labels;
  for (const char* name : kNames) {
    if (std::string(name) != "__name__" && rng() % 3 == 0) continue;
    // Low indexes are far more likely: min of two draws.
    const size_t value = std::min(rng() % std::size(kValues), rng() % std::size(kValues));
    if (value == 10 && rng() % 2 == 0) continue;  // usually no label instead of ""
    labels.push_back(Label{name, kValues[value]});
  }
  return labels;  // names are already in sorted order
}

LabelMatcher RandomMatcher(std::mt19937_64& rng) {
  static const char* const kNames[] = {"__name__", "a", "b", "c", "d", "absent"};
  static const char* const kLiterals[] = {"x", "y", "z", "xy", "foo", "bar", "", "nope", "x.y"};
  static const char* const kRegexes[] = {".*", ".+", "x|y", "x.*", "(x|)", "", "[a-z]+", "f.*|b.*",
                                         "x.", ".*z", "nope", "x\\.y", "y|"};
  const auto type = static_cast<MatchType>(rng() % 4);
  const std::string name = kNames[rng() % std::size(kNames)];
  const bool regex = type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch;
  const std::string value =
      regex ? kRegexes[rng() % std::size(kRegexes)] : kLiterals[rng() % std::size(kLiterals)];
  return M(type, name, value);
}

TEST(MemPostingsSelectTest, MatchesBruteForceOnRandomSeriesAndMatchers) {
  std::mt19937_64 rng(424242);
  int cases = 0;
  for (int corpus_round = 0; corpus_round < 60; ++corpus_round) {
    Corpus corpus;
    // Ids clustered with occasional large gaps; sometimes added out of order.
    const size_t series_count = 1 + rng() % 600;
    std::vector<uint64_t> ids;
    uint64_t id = 1 + rng() % 5;
    for (size_t i = 0; i < series_count; ++i) {
      ids.push_back(id);
      id += rng() % 10 == 0 ? 1 + rng() % 5000 : 1;
    }
    if (rng() % 4 == 0) std::shuffle(ids.begin(), ids.end(), rng);
    for (uint64_t series_id : ids) corpus.Add(series_id, RandomLabels(rng));

    for (int query = 0; query < 100; ++query, ++cases) {
      std::vector<LabelMatcher> matchers;
      const size_t matcher_count = rng() % 5;  // 0..4
      for (size_t i = 0; i < matcher_count; ++i) matchers.push_back(RandomMatcher(rng));
      ASSERT_EQ(corpus.postings().Select(matchers), corpus.BruteForce(matchers))
          << "corpus " << corpus_round << " query " << Describe(matchers);
    }
  }
  EXPECT_EQ(cases, 6000);
}

}  // namespace
}  // namespace tsvault::storage
