// Replays the fuzz corpus and every saved crash (tests/fuzz/corpus/<target>,
// tests/fuzz/regressions/<target>) through the fuzz targets' own checks, so a
// crash found by scripts/fuzz stays fixed in the normal test suite, with or
// without a fuzzer. Below them, one test per parser fix, with the value the
// fix promises (the replay alone only shows that nothing breaks).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "../fuzz/fuzz_checks.h"

namespace hfm::fuzz {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path fuzz_dir() {
#ifdef HFM_SOURCE_DIR
  return fs::path(HFM_SOURCE_DIR) / "tests" / "fuzz";
#else
  return fs::path(__FILE__).parent_path().parent_path() / "fuzz";  // tests/unit/ -> tests/fuzz/
#endif
}

void throw_on_failure(const char* condition, const char* file, int line) {
  throw std::runtime_error(std::string("check failed: ") + condition + " (" + file + ":" + std::to_string(line) + ")");
}

// Check failures throw while a test runs, so one input does not end the run.
class ThrowingChecks {
 public:
  ThrowingChecks() : saved_(failure_handler()) { failure_handler() = &throw_on_failure; }
  ~ThrowingChecks() { failure_handler() = saved_; }
  ThrowingChecks(const ThrowingChecks&) = delete;
  ThrowingChecks& operator=(const ThrowingChecks&) = delete;

 private:
  FailureHandler saved_;
};

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FuzzInputs : public ::testing::TestWithParam<size_t> {};

TEST_P(FuzzInputs, PassTheTargetsChecks) {
  const Target& target = kTargets[GetParam()];
  const ThrowingChecks throwing;
  const fs::path corpus = fuzz_dir() / "corpus" / target.name;
  ASSERT_TRUE(fs::is_directory(corpus)) << corpus << " is missing: every target has seed inputs";
  std::vector<fs::path> inputs = files_in(corpus);
  if (const fs::path saved = fuzz_dir() / "regressions" / target.name; fs::is_directory(saved)) {
    const std::vector<fs::path> crashes = files_in(saved);
    inputs.insert(inputs.end(), crashes.begin(), crashes.end());
  }
  for (const fs::path& input : inputs) {
    try {
      target.check(read_bytes(input));
    } catch (const std::exception& e) {  // a failed check, or a parser that threw
      ADD_FAILURE() << input << ": " << e.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzInputs, ::testing::Range<size_t>(0, std::size(kTargets)),
                         [](const auto& target_info) { return std::string(kTargets[target_info.param].name); });

// A folder under corpus/ or regressions/ that names no target would never be replayed.
TEST(FuzzInputs, FoldersNameKnownTargets) {
  for (const char* kind : {"corpus", "regressions"}) {
    for (const auto& entry : fs::directory_iterator(fuzz_dir() / kind)) {
      const std::string name = entry.path().filename().string();
      const bool known =
          std::any_of(std::begin(kTargets), std::end(kTargets), [&name](const Target& t) { return t.name == name; });
      EXPECT_TRUE(known) << entry.path();
    }
  }
}

// --- The fixes, one value each ------------------------------------------------

// nlohmann throws out_of_range, not parse_error, for a number beyond double:
// it escaped the parsers and ended the process.
TEST(FuzzFixes, JsonNumberOutOfRangeIsAProtocolError) {
  const auto page = hub::parse_tree_page("[{\"type\":\"file\",\"size\":4e460}]");
  ASSERT_FALSE(page.has_value());
  EXPECT_EQ(page.error().code, ErrorCode::kProtocol);
  EXPECT_NE(page.error().message.find("out of range"), std::string::npos);
  const auto sha = hub::parse_revision_sha("{\"sha\":1e999}");
  ASSERT_FALSE(sha.has_value());
  EXPECT_EQ(sha.error().code, ErrorCode::kProtocol);
  const auto manifest = store::manifest_from_json("{\"format\":\"hfmirror-manifest\",\"total_bytes\":1e400}");
  ASSERT_FALSE(manifest.has_value());
  EXPECT_EQ(manifest.error().code, ErrorCode::kProtocol);
}

http::Response answer(int status, std::string_view retry_after, std::string_view ratelimit = {}) {
  http::Response r;
  r.status = status;
  if (!retry_after.empty()) r.headers.add("Retry-After", retry_after);
  if (!ratelimit.empty()) r.headers.add("RateLimit", ratelimit);
  return r;
}

// Seconds up to int64 and dates up to 9999 overflowed milliseconds (UB).
TEST(FuzzFixes, ServerDelaysAreCappedInsteadOfOverflowing) {
  const auto now = fixed_now();
  const std::chrono::milliseconds year = std::chrono::hours(24 * 365);
  EXPECT_EQ(http::server_requested_delay(answer(503, "9223372036854775807"), now), year);
  EXPECT_EQ(http::server_requested_delay(answer(503, "Fri, 31 Dec 9999 23:59:59 GMT"), now), year);
  EXPECT_EQ(http::server_requested_delay(answer(503, "Sat, 01 Jan 0000 00:00:00 GMT"), now), 0ms);
  EXPECT_EQ(http::server_requested_delay(answer(429, "", "\"api\";r=0;t=9223372036854775807"), now), year);
  // Ordinary values are unchanged.
  EXPECT_EQ(http::server_requested_delay(answer(503, "7"), now), 7000ms);
  EXPECT_EQ(http::server_requested_delay(answer(503, "Fri, 27 Nov 2026 12:00:30 GMT"), now + 250ms), 29'750ms);
  EXPECT_EQ(http::server_requested_delay(answer(429, "", "\"api\";r=0;t=41"), now), 42'000ms);
  // A date with a NUL inside is not a date.
  EXPECT_FALSE(
      http::server_requested_delay(answer(503, std::string_view("Fri, 27 Nov 2026 12:00:30 GMT\0x", 31)), now));
}

TEST(FuzzFixes, HubRetryAfterDatesFarAwayDoNotOverflow) {
  using namespace std::chrono;
  const auto now = fixed_now() + 400ms;
  const seconds until_9999 =
      sys_days(year(9999) / December / day(31)) + hours(23) + minutes(59) + seconds(59) - floor<seconds>(now);
  EXPECT_EQ(hub::parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now), until_9999);
  EXPECT_EQ(hub::parse_retry_after("Sat, 01 Jan 0000 00:00:00 GMT", now), 0s);
  EXPECT_EQ(hub::parse_retry_after("Fri, 27 Nov 2026 12:00:30 GMT", now), 30s);  // rounded up, as before
}

// Years 0000-9999 parse, but system_clock holds only 1678-2262 in nanoseconds.
TEST(FuzzFixes, AwsTimesOutsideTheClockAreRefused) {
  using namespace std::chrono;
  EXPECT_FALSE(auth::parse_aws_time("05240524T000000Z"));
  EXPECT_FALSE(auth::parse_aws_time("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(auth::parse_aws_time("0000-01-01T00:00:00+01:00"));
  EXPECT_FALSE(auth::parse_aws_time("Fri, 31 Dec 9999 23:59:59 GMT"));
  EXPECT_EQ(auth::parse_aws_time("2262-01-01T00:00:00Z"), sys_days(year(2262) / January / day(1)));
  EXPECT_EQ(auth::parse_aws_time("1678-01-01T00:00:00Z"), sys_days(year(1678) / January / day(1)));
  // The skew is taken in seconds: in nanoseconds, 1678 minus now overflowed.
  const auto now = fixed_now();
  EXPECT_EQ(auth::clock_skew_from_date_header("Sat, 01 Jan 1678 00:00:00 GMT", now),
            sys_days(year(1678) / January / day(1)) - floor<seconds>(now));
  EXPECT_EQ(auth::clock_skew_from_date_header("Fri, 27 Nov 2026 12:20:00 GMT", now), 1200s);
}

// std::regex recursed once per character of a plain scalar: a long number
// overflowed the stack. The written-out check gives the same answers.
TEST(FuzzFixes, LongNumberInAConfigIsReportedNotAStackOverflow) {
  const std::string digits(1 << 20, '7');
  const auto config =
      config::parse_models_config("- {name: a, modelId: a/b, to: /x, revision: " + digits + "}", "m.yaml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message.find("must be a string, got a number"), std::string::npos);
  for (const char* number : {"5", "-5", "+0.5", ".5", "5.", "1e3", "1.5E-3", "0o17", "0x1F", ".inf", "-.Inf", ".NaN"}) {
    const auto c = config::parse_models_config(
        std::string("- {name: a, modelId: a/b, to: /x, revision: ") + number + "}", "m.yaml");
    ASSERT_FALSE(c.has_value()) << number;
    EXPECT_NE(c.error().message.find("got a number"), std::string::npos) << number;
  }
  for (const char* text : {"v1.0", "1.2.3", "0x", "0o8", "+.nan", "e5", ".", "1e", "0b1", "1_000", "abc123"}) {
    const auto c =
        config::parse_models_config(std::string("- {name: a, modelId: a/b, to: /x, revision: ") + text + "}", "m.yaml");
    ASSERT_TRUE(c.has_value()) << text << ": " << c.error().message;
    EXPECT_EQ(c->models[0].revision, text);
  }
  EXPECT_NE(config::parse_models_config("- {name: a, modelId: a/b, to: /x, revision: TRUE}", "m.yaml")
                .error()
                .message.find("got a boolean"),
            std::string::npos);
}

TEST(FuzzFixes, UrlHostsKeepNoColonAndPortsAreReal) {
  // "a:b:80" was host "a:b", port 80; printed back it named host "a", port "b".
  EXPECT_FALSE(http::parse_url("http://huggingface.co:evil.com:80/"));
  EXPECT_FALSE(http::parse_url("http://h:0/"));
  EXPECT_FALSE(http::parse_url("https://[::1]:99999/"));
  EXPECT_FALSE(http::parse_url("https://[::1]:+80/"));
  EXPECT_FALSE(http::parse_url("https://[::1]x/"));
  const auto v6 = http::parse_url("http://[::1]:8080/a");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "[::1]");
  EXPECT_EQ(v6->port, 8080);
  EXPECT_EQ(v6->str(), "http://[::1]:8080/a");
  EXPECT_EQ(http::parse_url("http://h:65535")->port, 65535);
}

TEST(FuzzFixes, LocationPathWithAUrlInItsQueryStaysOnTheOrigin) {
  const http::Url base = *http::parse_url("https://hub.example/acme/tiny/resolve/main/config.json");
  const auto to = http::resolve_location(base, "/api/resolve-cache/x?from=https://cdn.example/y");
  ASSERT_TRUE(to);
  EXPECT_EQ(to->str(), "https://hub.example/api/resolve-cache/x?from=https://cdn.example/y");
  EXPECT_EQ(http::resolve_location(base, "other.json?u=http://x/")->str(),
            "https://hub.example/acme/tiny/resolve/main/other.json?u=http://x/");
  EXPECT_EQ(http::resolve_location(base, "HTTPS://cdn.example/o")->str(), "https://cdn.example/o");
  EXPECT_FALSE(http::resolve_location(base, "ftp://cdn.example/o"));
}

}  // namespace
}  // namespace hfm::fuzz
