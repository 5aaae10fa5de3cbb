// MemPostings basics and its sorted-list set operations (Intersect,
// Subtract, Union), checked against the standard algorithms on random lists
// of every shape: similar and very skewed sizes, clustered and scattered ids.
#include "storage/mem_postings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>

namespace tsvault::storage {
namespace {

LabelMatcher M(MatchType type, const char* name, const char* value) {
  LabelMatcher m;
  EXPECT_TRUE(LabelMatcher::Create(type, name, value, &m).ok());
  return m;
}

TEST(MemPostingsTest, SetOperations) {
  EXPECT_EQ(MemPostings::Intersect({1, 3, 5, 7}, {3, 4, 5}), (SeriesIds{3, 5}));
  EXPECT_EQ(MemPostings::Subtract({1, 3, 5, 7}, {3, 4, 5}), (SeriesIds{1, 7}));
  SeriesIds a{1, 4}, b{2, 4, 9};
  EXPECT_EQ(MemPostings::Union({&a, &b}), (SeriesIds{1, 2, 4, 9}));
}

TEST(MemPostingsTest, SetOperationsOnEmptyAndDisjointLists) {
  const SeriesIds empty, low{1, 2, 3}, high{10, 11};
  EXPECT_TRUE(MemPostings::Intersect(empty, low).empty());
  EXPECT_TRUE(MemPostings::Intersect(low, empty).empty());
  EXPECT_TRUE(MemPostings::Intersect(low, high).empty());
  EXPECT_EQ(MemPostings::Subtract(low, empty), low);
  EXPECT_TRUE(MemPostings::Subtract(empty, low).empty());
  EXPECT_EQ(MemPostings::Subtract(low, high), low);
  EXPECT_EQ(MemPostings::Subtract(low, low), empty);
  EXPECT_TRUE(MemPostings::Union({}).empty());
  EXPECT_TRUE(MemPostings::Union({&empty, &empty, &empty}).empty());
  EXPECT_EQ(MemPostings::Union({&empty, &high, &empty, &low}), (SeriesIds{1, 2, 3, 10, 11}));
}

TEST(MemPostingsTest, SkewedIntersectionFindsEdgeIds) {
  // A long list and a few probes at its very ends and just past them: the
  // galloping search must neither skip nor overrun.
  SeriesIds long_list;
  for (uint64_t id = 100; id < 200'100; id += 2) long_list.push_back(id);
  const SeriesIds probes{0, 99, 100, 101, 50'000, 50'001, 200'096, 200'098, 200'100, 1'000'000};
  EXPECT_EQ(MemPostings::Intersect(probes, long_list), (SeriesIds{100, 50'000, 200'096, 200'098}));
  EXPECT_EQ(MemPostings::Intersect(long_list, probes), (SeriesIds{100, 50'000, 200'096, 200'098}));
  EXPECT_EQ(MemPostings::Subtract(probes, long_list),
            (SeriesIds{0, 99, 101, 50'001, 200'100, 1'000'000}));
  SeriesIds expected = long_list;
  for (uint64_t id : {100, 50'000, 200'096, 200'098}) {
    expected.erase(std::find(expected.begin(), expected.end(), id));
  }
  EXPECT_EQ(MemPostings::Subtract(long_list, probes), expected);
}

// A sorted unique list of about `count` ids below `limit`: clustered (runs of
// consecutive ids separated by gaps, as series ids of one metric are) or
// scattered uniformly.
SeriesIds RandomList(std::mt19937_64& rng, size_t count, uint64_t limit, bool clustered) {
  SeriesIds ids;
  if (clustered) {
    uint64_t id = rng() % (limit / 4 + 1);
    while (ids.size() < count && id < limit) {
      const size_t run = 1 + rng() % 40;
      for (size_t i = 0; i < run && ids.size() < count && id < limit; ++i) ids.push_back(id++);
      id += 1 + rng() % (rng() % 2 == 0 ? 8 : 2000);
    }
  } else {
    for (size_t i = 0; i < count; ++i) ids.push_back(rng() % limit);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  }
  return ids;
}

TEST(MemPostingsTest, SetOperationsMatchStandardAlgorithmsOnRandomLists) {
  std::mt19937_64 rng(20241124);
  for (int round = 0; round < 2000; ++round) {
    // Sizes from equal to thousands of times apart, in either order.
    const size_t size_a = rng() % 4 == 0 ? rng() % 4 : 1 + rng() % 3000;
    const size_t size_b = rng() % 3 == 0 ? size_a * (1 + rng() % 16) : 1 + rng() % 3000;
    const uint64_t limit = 1 + rng() % 200'000;
    const SeriesIds a = RandomList(rng, size_a, limit, rng() % 2 == 0);
    const SeriesIds b = RandomList(rng, size_b, limit, rng() % 2 == 0);
    SCOPED_TRACE("round " + std::to_string(round) + " sizes " + std::to_string(a.size()) + "/" +
                 std::to_string(b.size()));

    SeriesIds expected;
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(expected));
    ASSERT_EQ(MemPostings::Intersect(a, b), expected);
    ASSERT_EQ(MemPostings::Intersect(b, a), expected);

    expected.clear();
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(expected));
    ASSERT_EQ(MemPostings::Subtract(a, b), expected);
    expected.clear();
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(expected));
    ASSERT_EQ(MemPostings::Subtract(b, a), expected);
  }
}

TEST(MemPostingsTest, UnionMatchesSortAndUniqueOnRandomLists) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 1000; ++round) {
    const size_t list_count = rng() % 40;
    std::vector<SeriesIds> lists;
    SeriesIds expected;
    for (size_t i = 0; i < list_count; ++i) {
      // Overlapping lists (duplicates across lists must appear once) and
      // some empty ones.
      lists.push_back(RandomList(rng, rng() % 5 == 0 ? 0 : rng() % 300, 1 + rng() % 5000,
                                 rng() % 2 == 0));
      expected.insert(expected.end(), lists.back().begin(), lists.back().end());
    }
    std::sort(expected.begin(), expected.end());
    expected.erase(std::unique(expected.begin(), expected.end()), expected.end());
    std::vector<const SeriesIds*> pointers;
    for (const SeriesIds& list : lists) pointers.push_back(&list);
    ASSERT_EQ(MemPostings::Union(pointers), expected) << "round " << round;
  }
}

TEST(MemPostingsTest, SelectFollowsPrometheusEmptyValueRules) {
  MemPostings postings;
  postings.Add(1, {{"__name__", "up"}, {"job", "a"}});
  postings.Add(2, {{"__name__", "up"}, {"job", "b"}});
  postings.Add(3, {{"__name__", "up"}});
  postings.Add(5, {{"__name__", "down"}, {"job", "a"}});
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "__name__", "up")}), (SeriesIds{1, 2, 3}));
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "__name__", "up"), M(MatchType::kEqual, "job", "")}),
            (SeriesIds{3}));
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "__name__", "up"), M(MatchType::kNotEqual, "job", "a")}),
            (SeriesIds{2, 3}));
  EXPECT_EQ(postings.Select({M(MatchType::kRegexMatch, "job", "a|b")}), (SeriesIds{1, 2, 5}));
  EXPECT_EQ(postings.Select({M(MatchType::kRegexNoMatch, "job", "a")}), (SeriesIds{2, 3}));
  EXPECT_EQ(postings.Select({}), (SeriesIds{1, 2, 3, 5}));
  EXPECT_TRUE(postings.Select({M(MatchType::kEqual, "nope", "x")}).empty());
}

TEST(MemPostingsTest, OutOfOrderIdsStaySorted) {
  MemPostings postings;
  postings.AddPosting("a", "1", 9);
  postings.AddPosting("a", "1", 2);
  postings.AddPosting("a", "1", 5);
  postings.AddPosting("a", "1", 5);
  EXPECT_EQ(postings.Get("a", "1"), (SeriesIds{2, 5, 9}));
}

TEST(MemPostingsDeleteTest, DeletedSeriesLeaveEveryList) {
  MemPostings postings;
  const Labels a{{"__name__", "up"}, {"job", "a"}};
  const Labels b{{"__name__", "up"}, {"job", "b"}};
  const Labels c{{"__name__", "down"}, {"job", "a"}, {"zone", "z1"}};
  postings.Add(1, a);
  postings.Add(2, b);
  postings.Add(3, c);
  postings.Delete(3, c);
  EXPECT_EQ(postings.All(), (SeriesIds{1, 2}));
  EXPECT_EQ(postings.Get("job", "a"), (SeriesIds{1}));
  EXPECT_TRUE(postings.Get("__name__", "down").empty());
  // Names and values left without series are gone.
  std::vector<std::string> names = postings.LabelNames();
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"__name__", "job"}));
  std::vector<std::string> values = postings.LabelValues("__name__");
  EXPECT_EQ(values, (std::vector<std::string>{"up"}));
  EXPECT_EQ(postings.Select({M(MatchType::kEqual, "job", "a")}), (SeriesIds{1}));
  postings.Delete(3, c);  // twice: ignored
  postings.Delete(1, a);
  postings.Delete(2, b);
  EXPECT_TRUE(postings.All().empty());
  EXPECT_TRUE(postings.LabelNames().empty());
}

TEST(MemPostingsDeleteTest, DeleteManyEqualsOneDeletePerSeries) {
  // 2000 series over a few label pairs; every third one and a few absent
  // ids go at once, and the index equals deleting them one by one.
  MemPostings bulk, single;
  std::vector<std::pair<uint64_t, Labels>> gone;
  for (uint64_t id = 1; id <= 2000; ++id) {
    Labels labels{{"__name__", id % 7 == 0 ? "rare" : "up"},
                  {"instance", "i" + std::to_string(id)},
                  {"job", "j" + std::to_string(id % 5)}};
    bulk.Add(id, labels);
    single.Add(id, labels);
    if (id % 3 == 0 || id % 7 == 0) gone.emplace_back(id, labels);
  }
  gone.emplace_back(5000, Labels{{"__name__", "up"}});  // not there: ignored
  bulk.DeleteMany(gone);
  for (const auto& [id, labels] : gone) single.Delete(id, labels);
  EXPECT_EQ(bulk.All(), single.All());
  EXPECT_EQ(bulk.All().size(), 2000u - 2000 / 3 - 2000 / 7 + 2000 / 21);
  EXPECT_TRUE(bulk.Get("__name__", "rare").empty());
  for (int job = 0; job < 5; ++job) {
    const std::string value = "j" + std::to_string(job);
    EXPECT_EQ(bulk.Get("job", value), single.Get("job", value)) << value;
  }
  std::vector<std::string> bulk_values = bulk.LabelValues("instance"), single_values = single.LabelValues("instance");
  std::sort(bulk_values.begin(), bulk_values.end());
  std::sort(single_values.begin(), single_values.end());
  EXPECT_EQ(bulk_values, single_values);
  EXPECT_EQ(bulk.LabelValues("__name__"), (std::vector<std::string>{"up"}));
}

}  // namespace
}  // namespace tsvault::storage
