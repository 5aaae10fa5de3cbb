// Runs every PromQL test script in tests/unit/query/testdata/*.test
// through a real storage engine (see engine_script.h for the format).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/unit/query/engine_script.h"

namespace tsvault::query {
namespace {

std::filesystem::path TestdataDir() { return std::filesystem::path(__FILE__).parent_path() / "testdata"; }

std::vector<std::string> ScriptNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(TestdataDir(), ec)) {
    if (entry.path().extension() == ".test") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

class EngineScriptTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EngineScriptTest, Passes) {
  const std::filesystem::path path = TestdataDir() / (GetParam() + ".test");
  std::ifstream file(path);
  ASSERT_TRUE(file.good()) << path;
  std::stringstream text;
  text << file.rdbuf();
  script::Runner runner(GetParam() + ".test");
  const std::vector<std::string> failures = runner.Run(text.str());
  for (const std::string& failure : failures) ADD_FAILURE() << failure;
}

INSTANTIATE_TEST_SUITE_P(Scripts, EngineScriptTest, ::testing::ValuesIn(ScriptNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(EngineScriptTest, ScriptsArePresent) { EXPECT_GE(ScriptNames().size(), 5u); }

}  // namespace
}  // namespace tsvault::query
