#include "providers/openai/openai.h"

#include <gtest/gtest.h>

namespace baagate::providers::openai {
namespace {

TEST(OpenAiParseRequest, AcceptsAStreamingChatAndForcesUsageUpstream) {
  ParsedRequest r;
  RequestError e;
  ASSERT_TRUE(ParseRequest(Endpoint::kChatCompletions,
                           R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})",
                           &r, &e));
  EXPECT_TRUE(r.stream);
  EXPECT_FALSE(r.client_wants_usage);
  auto body = boost::json::parse(EncodeUpstreamBody(r, "vendor-m")).as_object();
  EXPECT_EQ(body["model"].as_string(), "vendor-m");
  EXPECT_TRUE(body["stream_options"].at("include_usage").as_bool());
}

TEST(OpenAiParseRequest, NamesTheBadParameterWithoutQuotingContent) {
  ParsedRequest r;
  RequestError e;
  EXPECT_FALSE(ParseRequest(Endpoint::kChatCompletions,
                            R"({"model":"m","messages":[{"content":"SECRET"}]})", &r, &e));
  EXPECT_EQ(e.param, "messages[0].role");
  EXPECT_EQ(e.message.find("SECRET"), std::string::npos);
  EXPECT_FALSE(ParseRequest(Endpoint::kChatCompletions, R"({"model":"m"})", &r, &e));
  EXPECT_EQ(e.param, "messages");
  EXPECT_FALSE(ParseRequest(Endpoint::kChatCompletions, R"([1])", &r, &e));
  EXPECT_FALSE(ParseRequest(Endpoint::kEmbeddings, R"({"model":"m"})", &r, &e));
  EXPECT_EQ(e.param, "input");
}

TEST(OpenAiErrors, KeepOnlyIdentifierShapedVendorFields) {
  auto f = ExtractSafeErrorFields(
      R"({"error":{"message":"patient John Doe","type":"invalid_request_error","code":"John Doe","param":"messages[0].content"}})");
  EXPECT_EQ(f.type, "invalid_request_error");
  EXPECT_EQ(f.code, "");
  EXPECT_EQ(f.param, "messages[0].content");
}

TEST(OpenAiErrors, DropUnknownCodesAndNameShapedParams) {
  auto f = ExtractSafeErrorFields(
      R"({"error":{"type":"smith","code":"zebulon_quartermaine","param":"Zebulon"}})");
  EXPECT_EQ(f.type, "");
  EXPECT_EQ(f.code, "");
  EXPECT_EQ(f.param, "");
  for (const char* bad : {"messages[]", "messages[x]", ".a", "a.", "a..b", "a b", "[0]"}) {
    std::string body = std::string(R"({"error":{"param":")") + bad + R"("}})";
    EXPECT_EQ(ExtractSafeErrorFields(body).param, "") << bad;
  }
  EXPECT_EQ(ExtractSafeErrorFields(R"({"error":{"param":"tools[2].function.parameters"}})").param,
            "tools[2].function.parameters");
}

TEST(OpenAiErrors, HaveAllFourKeys) {
  auto v = boost::json::parse(ErrorJson("m", "t", "", "c")).as_object();
  const auto& e = v["error"].as_object();
  EXPECT_TRUE(e.at("param").is_null());
  EXPECT_EQ(e.at("code").as_string(), "c");
}

TEST(OpenAiUsage, ReadsTokenCounts) {
  auto v = boost::json::parse(R"({"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})");
  Usage u;
  ASSERT_TRUE(ReadUsage(v.as_object(), &u));
  EXPECT_EQ(u.total_tokens, 7);
}

}  // namespace
}  // namespace baagate::providers::openai
