#include "import/csv_reader.h"

#include <gtest/gtest.h>

#include <random>

namespace tsvault::import {
namespace {

// Splits `text` into records, fed in pieces of `piece` bytes.
std::vector<CsvRecord> ReadAll(std::string_view text, size_t piece, std::vector<std::string>* errors = nullptr) {
  CsvReader reader;
  std::vector<CsvRecord> out;
  CsvRecord record;
  Status error;
  auto drain = [&] {
    while (reader.Next(&record, &error)) {
      if (!error.ok() && errors != nullptr) errors->push_back(error.message());
      out.push_back(record);
    }
  };
  for (size_t at = 0; at < text.size(); at += piece) {
    reader.Append(text.substr(at, piece));
    drain();
  }
  reader.Finish();
  drain();
  return out;
}

TEST(CsvReaderTest, SplitsFieldsAndQuotesAsRfc4180) {
  const std::string text =
      "a,b,c\n"
      "\"x,y\",\"say \"\"hi\"\"\",\n"
      "\"two\nlines\",'q,\r\n"
      "\n"
      "last,no,newline";
  for (size_t piece : {1, 2, 3, 7, 1000}) {
    const auto records = ReadAll(text, piece);
    ASSERT_EQ(records.size(), 4u) << piece;
    EXPECT_EQ(records[0].fields, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(records[0].line, 1u);
    EXPECT_EQ(records[1].fields, (std::vector<std::string>{"x,y", "say \"hi\"", ""}));
    EXPECT_EQ(records[2].fields, (std::vector<std::string>{"two\nlines", "'q", ""}));
    EXPECT_EQ(records[2].line, 3u);
    EXPECT_EQ(records[3].fields, (std::vector<std::string>{"last", "no", "newline"}));
    EXPECT_EQ(records[3].line, 6u) << "the empty line is counted";
  }
}

TEST(CsvReaderTest, BadQuotingNamesLineAndColumn) {
  std::vector<std::string> errors;
  const auto records = ReadAll("ok,1\n\"a\"b,2\nfine,3\n\"open,4\n", 1000, &errors);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[2].fields, (std::vector<std::string>{"fine", "3"}));
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "line 2, column 1: text after the closing quote of a field");
  EXPECT_EQ(errors[1], "line 4, column 1: a quoted field has no closing quote");
}

TEST(CsvReaderTest, RandomPiecesGiveTheSameRecords) {
  std::mt19937 rng(3);
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text += "\"v" + std::to_string(i) + ",\"\"x\"\"\"," + std::to_string(i) + (i % 3 == 0 ? "\r\n" : "\n");
  }
  const auto whole = ReadAll(text, text.size());
  ASSERT_EQ(whole.size(), 300u);
  for (int round = 0; round < 20; ++round) {
    CsvReader reader;
    std::vector<CsvRecord> pieces;
    CsvRecord record;
    Status error;
    for (size_t at = 0; at < text.size();) {
      const size_t size = 1 + rng() % 40;
      reader.Append(std::string_view(text).substr(at, size));
      at += size;
      while (reader.Next(&record, &error)) pieces.push_back(record);
    }
    reader.Finish();
    while (reader.Next(&record, &error)) pieces.push_back(record);
    ASSERT_EQ(pieces.size(), whole.size());
    for (size_t i = 0; i < whole.size(); ++i) EXPECT_EQ(pieces[i].fields, whole[i].fields);
  }
}

}  // namespace
}  // namespace tsvault::import
