#include <gtest/gtest.h>

#include "http/url.h"

namespace hfm::http {
namespace {

TEST(Url, ParsesOriginAndPath) {
  auto u = parse_url("https://HuggingFace.co/api/models/x?y=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "huggingface.co");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->path_and_query, "/api/models/x?y=1");
  EXPECT_EQ(u->origin(), "https://huggingface.co");
}

TEST(Url, ExplicitPortAndEmptyPath) {
  auto u = parse_url("http://localhost:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path_and_query, "/");
  EXPECT_EQ(u->origin(), "http://localhost:8080");
  auto q = parse_url("http://h?x=1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->path_and_query, "/?x=1");
}

TEST(Url, RejectsBadInput) {
  EXPECT_FALSE(parse_url("huggingface.co/x"));
  EXPECT_FALSE(parse_url("ftp://h/x"));
  EXPECT_FALSE(parse_url("http://user:pw@h/x"));  // credentials in URLs would leak into logs
  EXPECT_FALSE(parse_url("http://h:99999999/x"));
  EXPECT_FALSE(parse_url("http://h:abc/x"));
  EXPECT_FALSE(parse_url("http:///x"));
}

TEST(Url, SameOriginComparesSchemeHostPort) {
  auto a = *parse_url("http://localhost:1/a");
  EXPECT_TRUE(same_origin(a, *parse_url("http://LOCALHOST:1/b")));
  EXPECT_FALSE(same_origin(a, *parse_url("http://127.0.0.1:1/a")));
  EXPECT_FALSE(same_origin(a, *parse_url("http://localhost:2/a")));
  EXPECT_FALSE(same_origin(a, *parse_url("https://localhost:1/a")));
}

TEST(Url, ResolvesLocationForms) {
  auto base = *parse_url("https://hub.example/acme/tiny/resolve/main/config.json?x=1");
  EXPECT_EQ(resolve_location(base, "/api/resolve-cache/models/a/b?c=")->str(),
            "https://hub.example/api/resolve-cache/models/a/b?c=");
  EXPECT_EQ(resolve_location(base, "https://cdn.example/obj?sig=1")->str(), "https://cdn.example/obj?sig=1");
  EXPECT_EQ(resolve_location(base, "//cdn.example/o")->str(), "https://cdn.example/o");
  EXPECT_EQ(resolve_location(base, "other.json")->str(), "https://hub.example/acme/tiny/resolve/main/other.json");
}

TEST(Url, QuoteMatchesPython) {
  // Values from urllib.parse.quote.
  EXPECT_EQ(quote("refs/pr/1", ""), "refs%2Fpr%2F1");
  EXPECT_EQ(quote("a b/c+d=e&f%g~h'i(j)k!l*m"), "a%20b/c%2Bd%3De%26f%25g~h%27i%28j%29k%21l%2Am");
  EXPECT_EQ(quote("unicode/\xe6\xa8\xa1\xe5\x9e\x8b-\xc3\xbc.json"), "unicode/%E6%A8%A1%E5%9E%8B-%C3%BC.json");
  EXPECT_EQ(quote("-._~"), "-._~");
}

TEST(Url, PercentDecodeRoundTrips) {
  EXPECT_EQ(percent_decode("refs%2Fpr%2F1"), "refs/pr/1");
  EXPECT_EQ(percent_decode("%E6%A8%A1"), "\xe6\xa8\xa1");
  EXPECT_EQ(percent_decode("bad%zzx%4"), "bad%zzx%4");
  const std::string odd = "a b+c%/d";
  EXPECT_EQ(percent_decode(quote(odd, "")), odd);
}

}  // namespace
}  // namespace hfm::http
