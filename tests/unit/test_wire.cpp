#include "hub/wire.h"

#include <gtest/gtest.h>

#include <string>

namespace hfm::hub {
namespace {

using namespace std::chrono_literals;

TEST(RepoType, NamesOnTheWire) {
  EXPECT_EQ(api_plural(RepoType::kModel), "models");
  EXPECT_EQ(api_plural(RepoType::kDataset), "datasets");
  EXPECT_EQ(resolve_prefix(RepoType::kModel), "");
  EXPECT_EQ(resolve_prefix(RepoType::kDataset), "datasets/");
  EXPECT_EQ(parse_repo_type("model").value(), RepoType::kModel);
  EXPECT_EQ(parse_repo_type("models").value(), RepoType::kModel);
  EXPECT_EQ(parse_repo_type("dataset").value(), RepoType::kDataset);
  EXPECT_EQ(parse_repo_type("datasets").value(), RepoType::kDataset);
  for (const char* bad : {"space", "Model", "", "dataset "}) {
    const auto r = parse_repo_type(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  }
}

TEST(RepoType, ValidateRepoIdIsReachableFromHub) {
  EXPECT_TRUE(hub::validate_repo_id("acme/tiny").has_value());
  EXPECT_FALSE(hub::validate_repo_id("acme/../x").has_value());
}

// The recorded body of hub-protocol.md §2.2.
constexpr std::string_view kRecordedTree = R"([
 {"oid":"57fddbfaa4d48e0e641336a82a6ed99d1ab2da9b","path":"regression","size":0,"type":"directory"},
 {"lfs":{"oid":"cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f","pointerSize":132,"size":1048576},
  "oid":"c9176dbf0ba8556845af9072b3dd39d06764e8ba","path":"regression/ref-lfs.bin","size":1048576,
  "type":"file","xetHash":"f857c20483a87a6737b06f718d340429fc080f73c00f6d46b2030b58734a61e4"},
 {"oid":"e5698f9a721147f2090edf7da4892e23da00d5be","path":"regression/ref-regular.txt","size":186,"type":"file"}])";

TEST(ParseTreePage, RecordedBody) {
  const auto r = parse_tree_page(kRecordedTree);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  const auto& entries = r.value();
  ASSERT_EQ(entries.size(), 3u);

  EXPECT_EQ(entries[0].path, "regression");
  EXPECT_FALSE(entries[0].is_file);
  EXPECT_EQ(entries[0].oid, "57fddbfaa4d48e0e641336a82a6ed99d1ab2da9b");

  const TreeEntry& lfs = entries[1];
  EXPECT_TRUE(lfs.is_file);
  EXPECT_TRUE(lfs.is_lfs());
  EXPECT_EQ(lfs.size_bytes, 1048576u);
  EXPECT_EQ(lfs.oid, "c9176dbf0ba8556845af9072b3dd39d06764e8ba");
  EXPECT_EQ(lfs.lfs_sha256, "cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f");
  EXPECT_EQ(lfs.xet_hash, "f857c20483a87a6737b06f718d340429fc080f73c00f6d46b2030b58734a61e4");
  EXPECT_EQ(lfs.content_id(), "cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f");

  const TreeEntry& regular = entries[2];
  EXPECT_TRUE(regular.is_file);
  EXPECT_FALSE(regular.is_lfs());
  EXPECT_FALSE(regular.xet_hash.has_value());
  EXPECT_EQ(regular.size_bytes, 186u);
  EXPECT_EQ(regular.content_id(), "e5698f9a721147f2090edf7da4892e23da00d5be");
}

TEST(ParseTreePage, EmptyPageAndTolerableVariants) {
  EXPECT_TRUE(parse_tree_page("[]").value().empty());
  // Uppercase hex is lowercased; null lfs/xetHash mean absent; extra keys ignored.
  const auto r = parse_tree_page(
      R"([{"type":"file","path":"a.bin","size":3,"oid":"ABCDEF0123456789ABCDEF0123456789ABCDEF01",
           "lfs":null,"xetHash":null,"lastCommit":{"id":"x"},"securityFileStatus":{}},
          {"type":"file","path":"b.bin","size":0,"oid":"abcdef0123456789abcdef0123456789abcdef01",
           "lfs":{"oid":"CD44947308B4B22228767CAB8ADDD523D1DE22ABD9B23A10808E5FC295202E4F","pointerSize":129}},
          {"type":"directory","path":"d"}])");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r.value()[0].oid, "abcdef0123456789abcdef0123456789abcdef01");
  EXPECT_FALSE(r.value()[0].is_lfs());
  EXPECT_EQ(r.value()[1].lfs_sha256, "cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f");
  EXPECT_FALSE(r.value()[2].is_file);
  EXPECT_EQ(r.value()[2].oid, "");
}

TEST(ParseTreePage, RejectsMalformedEntries) {
  const std::string oid = R"("oid":"e5698f9a721147f2090edf7da4892e23da00d5be")";
  const std::string sha = "cd44947308b4b22228767cab8addd523d1de22abd9b23a10808e5fc295202e4f";
  struct Case {
    std::string body;
    const char* reason;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {"[{]", "not valid JSON"},
      {R"({"path":"a"})", "not a JSON array"},
      {"[5]", "entry 0: not an object"},
      {R"([{"type":"file","size":1,)" + oid + "}]", "\"path\" must be a non-empty string"},
      {R"([{"type":"file","path":"","size":1,)" + oid + "}]", "\"path\""},
      {R"([{"type":"file","path":7,"size":1,)" + oid + "}]", "\"path\""},
      {R"([{"path":"a","size":1,)" + oid + "}]", "\"type\""},
      {R"([{"type":"submodule","path":"a","size":1,)" + oid + "}]", "unknown \"type\""},
      {R"([{"type":"file","path":"a","size":1}])", "40-hex \"oid\""},
      {R"([{"type":"file","path":"a","size":1,"oid":"abc"}])", "\"oid\" is not 40 hex"},
      {R"([{"type":"file","path":"a","size":1,"oid":5}])", "\"oid\" is not 40 hex"},
      {R"([{"type":"file","path":"a",)" + oid + "}]", "\"size\""},
      {R"([{"type":"file","path":"a","size":-1,)" + oid + "}]", "\"size\""},
      {R"([{"type":"file","path":"a","size":"1",)" + oid + "}]", "\"size\""},
      {R"([{"type":"file","path":"a","size":1.5,)" + oid + "}]", "\"size\""},
      {R"([{"type":"file","path":"a","size":1,"lfs":"x",)" + oid + "}]", "\"lfs\" must be an object"},
      {R"([{"type":"file","path":"a","size":1,"lfs":{},)" + oid + "}]", "64-hex"},
      {R"([{"type":"file","path":"a","size":1,"lfs":{"oid":"e5698f9a721147f2090edf7da4892e23da00d5be"},)" + oid + "}]",
       "not 64 hex"},
      {R"([{"type":"file","path":"a","size":1,"lfs":{"oid":")" + sha + R"(","size":2},)" + oid + "}]", "differs"},
      {R"([{"type":"file","path":"a","size":1,"xetHash":"xyz",)" + oid + "}]", "\"xetHash\" is not 64 hex"},
  };
  for (const Case& c : cases) {
    const auto r = parse_tree_page(c.body);
    ASSERT_FALSE(r.has_value()) << c.body;
    EXPECT_EQ(r.error().code, ErrorCode::kProtocol) << c.body;
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << c.body << " → " << r.error().message;
  }
}

TEST(ParseTreePage, ErrorNamesTheEntryPrintably) {
  const auto r = parse_tree_page(R"([{"type":"file","path":"evil\nname","size":1,"oid":"x"}])");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("\"evil name\""), std::string::npos) << r.error().message;
}

TEST(ParseLinkNext, FindsNextAmongSeveral) {
  const std::string url =
      "https://huggingface.co/api/datasets/allenai/c4/tree/main/en?expand=false&recursive=true&limit=1000"
      "&cursor=ZXlK%3D%3D";
  EXPECT_EQ(parse_link_next("<" + url + ">; rel=\"next\""), url);
  EXPECT_EQ(parse_link_next("<https://h/p?page=1>; rel=\"prev\", <https://h/p?page=3>; rel=\"next\""),
            "https://h/p?page=3");
  EXPECT_EQ(parse_link_next("<https://h/last>; rel=last, <https://h/n>; rel=next"), "https://h/n");
  EXPECT_EQ(parse_link_next("<https://h/n>;rel=\"NEXT\""), "https://h/n");
  EXPECT_EQ(parse_link_next("<https://h/n>; title=\"a, b; c\"; rel=\"prev next\""), "https://h/n");
  EXPECT_EQ(parse_link_next("<https://h/a,b>; rel=\"next\""), "https://h/a,b");  // comma inside <>
  EXPECT_EQ(parse_link_next("  <https://h/n> ; rel = next  "), "https://h/n");
  EXPECT_EQ(parse_link_next("<https://h/x>; rel=\"xet-auth\", <https://h/n>; rel=\"next\""), "https://h/n");
}

TEST(ParseLinkNext, NoNext) {
  EXPECT_EQ(parse_link_next(""), std::nullopt);
  EXPECT_EQ(parse_link_next("<https://h/p>; rel=\"prev\""), std::nullopt);
  EXPECT_EQ(parse_link_next("<https://h/p>; rel=\"nextpage\""), std::nullopt);
  EXPECT_EQ(parse_link_next("<https://h/p>; title=\"next\""), std::nullopt);
  EXPECT_EQ(parse_link_next("<https://h/p; rel=\"next\""), std::nullopt);  // unterminated
  EXPECT_EQ(parse_link_next("<>; rel=\"next\""), std::nullopt);
  EXPECT_EQ(parse_link_next("garbage, more garbage"), std::nullopt);
  EXPECT_EQ(parse_link_next("garbage; rel=next, <https://h/n>; rel=next"), "https://h/n");
}

TEST(ParseRevisionSha, ReadsSha) {
  EXPECT_EQ(parse_revision_sha(R"({"id":"acme/tiny","sha":"bcf51b2e4ab2b2b1c4a41c6e55f3c6d8ea0b0d1f","siblings":[]})")
                .value(),
            "bcf51b2e4ab2b2b1c4a41c6e55f3c6d8ea0b0d1f");
  EXPECT_EQ(parse_revision_sha(R"({"sha":"BCF51B2E4AB2B2B1C4A41C6E55F3C6D8EA0B0D1F"})").value(),
            "bcf51b2e4ab2b2b1c4a41c6e55f3c6d8ea0b0d1f");
}

TEST(ParseRevisionSha, RejectsMissingOrBad) {
  for (const char* body : {"", "[]", "{}", R"({"sha":null})", R"({"sha":5})", R"({"sha":"main"})",
                           R"({"sha":"bcf51b2e"})", R"({"sha":"zcf51b2e4ab2b2b1c4a41c6e55f3c6d8ea0b0d1f"})"}) {
    const auto r = parse_revision_sha(body);
    ASSERT_FALSE(r.has_value()) << body;
    EXPECT_EQ(r.error().code, ErrorCode::kProtocol) << body;
  }
}

TEST(NormalizeEtag, StripsWeakMarkerAndQuotes) {
  EXPECT_EQ(normalize_etag("\"e5698f9a721147f2090edf7da4892e23da00d5be\""), "e5698f9a721147f2090edf7da4892e23da00d5be");
  EXPECT_EQ(normalize_etag("W/\"abc\""), "abc");
  EXPECT_EQ(normalize_etag("abc"), "abc");
  EXPECT_EQ(normalize_etag(" \"abc\" "), "abc");
  EXPECT_EQ(normalize_etag(""), "");
  EXPECT_EQ(normalize_etag("\"\""), "");
}

TEST(ParseRatelimit, DraftV9) {
  const auto r = parse_ratelimit("\"api\";r=4992;t=9");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->bucket, "api");
  EXPECT_EQ(r->remaining, 4992);
  EXPECT_EQ(r->reset_seconds, 9);

  const auto spaced = parse_ratelimit(" \"resolvers\" ; t=300 ; r=0 ");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(spaced->bucket, "resolvers");
  EXPECT_EQ(spaced->remaining, 0);
  EXPECT_EQ(spaced->reset_seconds, 300);

  const auto token = parse_ratelimit("api;r=1;t=2;pk=:abc=:, \"other\";r=9");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->bucket, "api");  // first list member only
  EXPECT_EQ(token->remaining, 1);
  EXPECT_EQ(token->reset_seconds, 2);

  const auto partial = parse_ratelimit("\"api\";t=5");
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->remaining, -1);
  EXPECT_EQ(partial->reset_seconds, 5);
}

TEST(ParseRatelimit, RejectsMalformed) {
  for (const char* h : {"", "   ", "\"api\";r=abc;t=9", "\"api\";r=-1;t=9", "\"api\";r=1;t=", "\"api\";r=1x",
                        "\"api\";r=99999999999999999999999"}) {
    EXPECT_FALSE(parse_ratelimit(h).has_value()) << h;
  }
}

TEST(ParseRetryAfter, DeltaSeconds) {
  const auto now = std::chrono::system_clock::time_point{} + 1'000'000s;
  EXPECT_EQ(parse_retry_after("120", now), 120s);
  EXPECT_EQ(parse_retry_after(" 0 ", now), 0s);
  EXPECT_EQ(parse_retry_after("99999999999999999999999", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("1.5", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("soon", now), std::nullopt);
}

TEST(ParseRetryAfter, HttpDateRelativeToNow) {
  using namespace std::chrono;
  const sys_seconds date = sys_days(year(2026) / October / 21) + 7h + 28min;
  const char* header = "Wed, 21 Oct 2026 07:28:00 GMT";
  EXPECT_EQ(parse_retry_after(header, date - 90s), 90s);
  EXPECT_EQ(parse_retry_after(header, date - 89500ms), 90s);  // rounds up: never retry early
  EXPECT_EQ(parse_retry_after(header, date), 0s);
  EXPECT_EQ(parse_retry_after(header, date + 1h), 0s);  // in the past
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", sys_days(year(1994) / November / 6) + 8h), 49min + 37s);
}

TEST(ParseRetryAfter, RejectsOtherDateForms) {
  const auto now = std::chrono::system_clock::time_point{};
  for (const char* h :
       {"Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 0x Nov 1994 08:49:37 GMT"}) {
    EXPECT_EQ(parse_retry_after(h, now), std::nullopt) << h;
  }
}

// --- map_hub_error: the §4.1 table, in the §4.2 order ---

TEST(MapHubError, RevisionNotFound) {
  const Error e = map_hub_error(404, "RevisionNotFound", "Invalid rev id: nope", "", "req-1", "repo acme/tiny");
  EXPECT_EQ(e.code, ErrorCode::kRevisionNotFound);
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.remote_code, "RevisionNotFound");
  EXPECT_EQ(e.request_id, "req-1");
  EXPECT_NE(e.message.find("repo acme/tiny"), std::string::npos);
  EXPECT_NE(e.message.find("Invalid rev id: nope"), std::string::npos);
  EXPECT_NE(e.message.find("--revision"), std::string::npos);
  EXPECT_FALSE(e.retryable());
}

TEST(MapHubError, RevisionMessageFromJsonBody) {
  const Error e = map_hub_error(404, "RevisionNotFound", "", R"({"error":"Invalid rev id: v9"})", "", "repo a/b");
  EXPECT_NE(e.message.find("Invalid rev id: v9"), std::string::npos) << e.message;
}

TEST(MapHubError, EntryNotFoundWithPlainTextBody) {
  const Error e = map_hub_error(404, "EntryNotFound", "", "Entry not found", "", "file x.bin of repo a/b");
  EXPECT_EQ(e.code, ErrorCode::kEntryNotFound);
  EXPECT_NE(e.message.find("Entry not found"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("file x.bin of repo a/b"), std::string::npos);
}

TEST(MapHubError, GatedWithoutAndWithToken) {
  const Error anonymous =
      map_hub_error(401, "GatedRepo", "Access to model a/b is restricted. Please log in.", "", "", "repo a/b");
  EXPECT_EQ(anonymous.code, ErrorCode::kGated);
  EXPECT_NE(anonymous.message.find("HF_TOKEN"), std::string::npos);
  EXPECT_NE(anonymous.message.find("restricted"), std::string::npos);

  const Error no_grant = map_hub_error(403, "GatedRepo", "you are not in the authorized list", "", "", "repo a/b");
  EXPECT_EQ(no_grant.code, ErrorCode::kGated);
  EXPECT_NE(no_grant.message.find("request access"), std::string::npos) << no_grant.message;
  EXPECT_EQ(exit_code_for(no_grant.code), ExitCode::kNotFound);
}

TEST(MapHubError, GatedTakesPrecedenceOver401RepoRule) {
  EXPECT_EQ(map_hub_error(401, "GatedRepo", "", "", "", "repo a/b").code, ErrorCode::kGated);
}

TEST(MapHubError, DisabledRepo) {
  const Error e = map_hub_error(403, "", "Access to this resource is disabled.", "", "", "repo a/b");
  EXPECT_EQ(e.code, ErrorCode::kUnauthorized);
  EXPECT_NE(e.message.find("disabled"), std::string::npos);
}

TEST(MapHubError, PrivateOrMissingRepoAnswers401) {
  // The recorded anonymous answer: 401, no X-Error-Code, JSON body.
  const Error e = map_hub_error(401, "", "Invalid username or password.",
                                R"({"error":"Invalid username or password."})", "Root=1-abc", "repo acme/private");
  EXPECT_EQ(e.code, ErrorCode::kRepoNotFound);
  EXPECT_NE(e.message.find("repo acme/private not found, or private and needs a token (--token / HF_TOKEN)"),
            std::string::npos)
      << e.message;
  EXPECT_EQ(e.request_id, "Root=1-abc");
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(exit_code_for(e.code), ExitCode::kNotFound);
}

TEST(MapHubError, RepoNotFoundCode) {
  const Error e = map_hub_error(404, "RepoNotFound", "", "", "", "dataset acme/none");
  EXPECT_EQ(e.code, ErrorCode::kRepoNotFound);
  EXPECT_NE(e.message.find("dataset acme/none not found"), std::string::npos);
}

TEST(MapHubError, InvalidCredentialsIsUnauthorized) {
  const Error header = map_hub_error(401, "", "Invalid credentials in Authorization header", "", "", "repo a/b");
  EXPECT_EQ(header.code, ErrorCode::kUnauthorized);
  EXPECT_NE(header.message.find("rejected the token"), std::string::npos);
  const Error body =
      map_hub_error(401, "", "", R"({"error":"Invalid credentials in Authorization header"})", "", "repo a/b");
  EXPECT_EQ(body.code, ErrorCode::kUnauthorized);
}

TEST(MapHubError, ForbiddenRateLimitedAndOthers) {
  EXPECT_EQ(map_hub_error(403, "", "", "", "", "repo a/b").code, ErrorCode::kUnauthorized);

  const Error limited = map_hub_error(429, "", "", "", "", "repo a/b");
  EXPECT_EQ(limited.code, ErrorCode::kRateLimited);
  EXPECT_TRUE(limited.retryable());
  EXPECT_NE(limited.message.find("rate limited"), std::string::npos);

  for (int status : {500, 502, 503, 504, 408}) {
    const Error e = map_hub_error(status, "", "", "<html>bad gateway</html>", "", "repo a/b");
    EXPECT_EQ(e.code, ErrorCode::kHttpStatus) << status;
    EXPECT_TRUE(e.retryable()) << status;
    EXPECT_EQ(e.message.find("<html>"), std::string::npos) << "HTML pages are not quoted";
  }
  for (int status : {400, 404, 409, 416}) {
    const Error e = map_hub_error(status, "", "", "", "", "repo a/b");
    EXPECT_EQ(e.code, ErrorCode::kHttpStatus) << status;
    EXPECT_FALSE(e.retryable()) << status;
    EXPECT_EQ(e.http_status, status);
  }
}

TEST(MapHubError, ErrorsListAndDescriptionAreCollected) {
  const Error e = map_hub_error(400, "", "", R"({"error":["first","second"],"error_description":"third"})", "", "x");
  EXPECT_NE(e.message.find("first; second; third"), std::string::npos) << e.message;
  const Error nested = map_hub_error(400, "", "", R"({"errors":[{"message":"nested one"},{"nope":1}]})", "", "x");
  EXPECT_NE(nested.message.find("nested one"), std::string::npos) << nested.message;
}

TEST(MapHubError, ServerTextIsSanitised) {
  const Error e = map_hub_error(404, "Entry\nNotFound", std::string("line1\nline2\r") + std::string(1000, 'x'), "",
                                "id\n2", "repo a/b");
  EXPECT_EQ(e.message.find('\n'), std::string::npos);
  EXPECT_EQ(e.message.find('\r'), std::string::npos);
  EXPECT_LT(e.message.size(), 500u);
  EXPECT_EQ(e.remote_code.find('\n'), std::string::npos);
  EXPECT_EQ(e.request_id, "id 2");
}

TEST(MapHubError, DescribeCarriesStatusCodeAndRequestId) {
  const Error e = map_hub_error(404, "RepoNotFound", "", "", "abc", "repo a/b");
  const std::string d = e.describe();
  EXPECT_NE(d.find("HTTP 404"), std::string::npos);
  EXPECT_NE(d.find("RepoNotFound"), std::string::npos);
  EXPECT_NE(d.find("request id abc"), std::string::npos);
}

}  // namespace
}  // namespace hfm::hub
