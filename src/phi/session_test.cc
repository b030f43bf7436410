#include "phi/session.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace baagate::phi {
namespace {

std::shared_ptr<const Detector> SharedDetector() {
  static const std::shared_ptr<const Detector> d = [] {
    DetectorOptions opts;
    // An identifier whose original text needs JSON escaping (a quote and a backslash).
    opts.custom_patterns.push_back({"quoted", "QX\"[0-9]{4}\\\\", PhiClass::kUniqueId, false});
    auto r = Detector::Create(opts);
    EXPECT_TRUE(r.ok());
    return *r;
  }();
  return d;
}

TEST(PhiSession, PlaceholdersAreConsistentWithinARequestAndReversible) {
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  std::string text =
      "Sarah P. was seen at UCLA Medical Center on March 5th, 2021. Later Sarah P. called "
      "555-123-4567; John Smith did not.";
  auto out = s.Deidentify(text);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->find("Sarah"), std::string::npos);
  EXPECT_EQ(out->find("555-123"), std::string::npos);
  EXPECT_NE(out->find("[NAME_1] was seen at [LOCATION_1] on [DATE_1]. Later [NAME_1] called "
                      "[PHONE_1]; [NAME_2] did not."),
            std::string::npos)
      << *out;
  EXPECT_EQ(s.Reidentify(*out), text);
  EXPECT_EQ(s.finding_counts()[static_cast<std::size_t>(PhiClass::kName)], 3U);
  EXPECT_EQ(s.finding_counts()[static_cast<std::size_t>(PhiClass::kDate)], 1U);
}

TEST(PhiSession, NeverMapsUnknownOrMangledPlaceholders) {
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  ASSERT_TRUE(s.Deidentify("Patient John Smith.").ok());
  EXPECT_EQ(s.Reidentify("[NAME_1] and [NAME_2] and [NAME 1] and [name_1] and [NAME_1"),
            "John Smith and [NAME_2] and [NAME 1] and [name_1] and [NAME_1");
  EXPECT_EQ(s.Reidentify("[LOCATION_1]"), "[LOCATION_1]");  // never issued
  // Numbers are read as issued: no leading zero, no other class's tag, nothing past the end.
  EXPECT_EQ(s.Reidentify("[NAME_01] [NAME_0] [ID_1] [PLAN_ID_1] [NAME_1_1] [_1] [NAME_999999999]"),
            "[NAME_01] [NAME_0] [ID_1] [PLAN_ID_1] [NAME_1_1] [_1] [NAME_999999999]");
}

TEST(PhiSession, KeepsEveryOriginalAsTheVaultGrows) {
  // Thousands of distinct originals in one session: the vault's index and its buffer grow
  // many times, and every placeholder still maps back to its own original.
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  std::string text;
  for (int i = 0; i < 3000; ++i) {
    text += "Call 555-" + std::to_string(100 + i % 900) + "-" + std::to_string(1000 + i) + ". ";
  }
  auto out = s.Deidentify(text);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->find("555-"), std::string::npos);
  EXPECT_NE(out->find("[PHONE_3000]"), std::string::npos);
  EXPECT_EQ(s.vault_size(), 3000U);
  EXPECT_EQ(s.Reidentify(*out), text);
  // The same spellings in a second text get the same placeholders.
  auto again = s.Deidentify(text);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *out);
  EXPECT_EQ(s.vault_size(), 3000U);
}

TEST(PhiSession, NeverIssuesAPlaceholderTheInputAlreadyContains) {
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  std::string text = "Template [NAME_1] filled for Sarah P.";
  auto out = s.Deidentify(text);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, "Template [NAME_1] filled for [NAME_2]");
  EXPECT_EQ(s.Reidentify(*out), text);
  // Several numbers reserved, of two classes: each is skipped, and only for its own class.
  Session t(SharedDetector(), TransformMode::kPlaceholder);
  auto out2 = t.Deidentify("[NAME_1] [NAME_2] [PHONE_2] Sarah P. and John Smith, 555-123-4567");
  ASSERT_TRUE(out2.ok());
  EXPECT_EQ(*out2, "[NAME_1] [NAME_2] [PHONE_2] [NAME_3] and [NAME_4], [PHONE_1]");
  EXPECT_EQ(t.Reidentify("[NAME_2] [NAME_4] [PHONE_1]"), "[NAME_2] John Smith 555-123-4567");
}

TEST(PhiSession, RedactsAndGeneralisesPerSafeHarbor) {
  Session redact(SharedDetector(), TransformMode::kRedact);
  auto r = redact.Deidentify("Call 555-123-4567 re: Sarah P.");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "Call [PHONE] re: [NAME]");
  EXPECT_EQ(redact.vault_size(), 0U);

  Session gen(SharedDetector(), TransformMode::kGeneralize);
  auto g = gen.Deidentify(
      "A 93-year-old seen on March 5th, 2021 in Springfield, IL 62704; also at IL 03601, "
      "and 06390.");
  ASSERT_TRUE(g.ok());
  EXPECT_NE(g->find("A 90 or older seen on 2021"), std::string::npos) << *g;
  EXPECT_NE(g->find("IL 000"), std::string::npos) << *g;  // 036 is a restricted ZIP3
  EXPECT_TRUE(IsRestrictedZip3("893"));
  EXPECT_FALSE(IsRestrictedZip3("627"));
}

TEST(PhiSession, RestoresPlaceholdersSplitAtEveryChunkBoundary) {
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  std::string text = "Dr. Anna Smith saw Sarah P. on 08/18/2023 (MRN: CC-456789).";
  auto de = s.Deidentify(text);
  ASSERT_TRUE(de.ok());
  for (std::size_t a = 0; a <= de->size(); ++a) {
    for (std::size_t b = a; b <= de->size(); b += 3) {
      StreamReidentifier stream(s);
      std::string out = stream.Feed(std::string_view(*de).substr(0, a));
      EXPECT_LT(stream.held_bytes(), s.max_placeholder_length());
      out += stream.Feed(std::string_view(*de).substr(a, b - a));
      EXPECT_LT(stream.held_bytes(), s.max_placeholder_length());
      out += stream.Feed(std::string_view(*de).substr(b));
      out += stream.Finish();
      ASSERT_EQ(out, text) << "split at " << a << "," << b;
    }
  }
  // Text that only looks like the start of a placeholder is released once it cannot be one.
  StreamReidentifier stream(s);
  EXPECT_EQ(stream.Feed("array[IND"), "array");
  EXPECT_EQ(stream.Feed("EX] = 1"), "[INDEX] = 1");
  EXPECT_EQ(stream.Feed("x[y"), "x[y");  // lower case never starts a placeholder
  EXPECT_EQ(stream.Finish(), "");
}

TEST(PhiSession, DeidentifiesEveryVendorVisibleStringOfAChatBody) {
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  std::string body = R"({"model":"gpt-4o-mini","user":"john.doe@example.com",
    "messages":[{"role":"system","content":"You help Dr. Anna Smith."},
                {"role":"user","content":[{"type":"text","text":"Patient Sarah P., MRN: 12345678"}]}],
    "tools":[{"type":"function","function":{"name":"lookup","description":"Find records for Sarah P.",
      "parameters":{"type":"object","properties":{"mrn":{"type":"string","description":"e.g. MRN: 12345678"}}}}}],
    "metadata":{"note":"call 555-123-4567","Jane Doe":"x"},"temperature":0.2,"stream":true})";
  auto out = s.DeidentifyJsonBody(Dialect::kOpenAiChat, body);
  ASSERT_TRUE(out.ok());
  for (std::string_view leaked : {"Sarah", "Anna", "12345678", "john.doe", "555-123", "Jane"}) {
    EXPECT_EQ(out->find(leaked), std::string::npos) << leaked << " in " << *out;
  }
  boost::json::value v = boost::json::parse(*out);
  EXPECT_EQ(v.at("model").as_string(), "gpt-4o-mini");
  EXPECT_EQ(v.at("messages").at(1).at("role").as_string(), "user");
  EXPECT_EQ(v.at("messages").at(1).at("content").at(0).at("type").as_string(), "text");
  EXPECT_EQ(v.at("tools").at(0).at("function").at("parameters").at("type").as_string(), "object");
  EXPECT_EQ(v.at("temperature").as_double(), 0.2);
  EXPECT_TRUE(v.at("stream").as_bool());
  EXPECT_EQ(v.at("messages").at(1).at("content").at(0).at("text").as_string(),
            "Patient [NAME_2], MRN: [MRN_1]");  // [NAME_1] is Dr. Anna Smith (system)
  // A metadata key is the caller's text: de-identified, and restored in a response.
  ASSERT_EQ(v.at("metadata").as_object().size(), 2U);
  EXPECT_EQ(v.at("metadata").as_object().begin()->key(), "note");
  std::string key((v.at("metadata").as_object().begin() + 1)->key());
  EXPECT_EQ(key.front(), '[') << key;
  auto back = s.ReidentifyJsonBody(R"({"metadata":{")" + key + R"(":"x"}})");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, R"({"metadata":{"Jane Doe":"x"}})");
  // Redaction would merge two keys into one "[PHONE]": refused, no member silently dropped.
  Session redact(SharedDetector(), TransformMode::kRedact);
  EXPECT_FALSE(redact
                   .DeidentifyJsonBody(Dialect::kOpenAiChat,
                                       R"({"metadata":{"617-555-0101":"1","617-555-0199":"2"}})")
                   .ok());

  EXPECT_FALSE(s.DeidentifyJsonBody(Dialect::kOpenAiChat, "{not json").ok());
}

TEST(PhiSession, ReidentifiesStreamedJsonEventsWithCorrectEscaping) {
  Session s(SharedDetector(), TransformMode::kPlaceholder);
  auto de = s.Deidentify("code QX\"1234\\ for Sarah P.");
  ASSERT_TRUE(de.ok());
  EXPECT_EQ(*de, "code [ID_1] for [NAME_1]");
  JsonStreamReidentifier js(s);
  auto ev = [](std::string_view content) {
    boost::json::object delta{{"content", content}};
    boost::json::object choice{{"index", 0}, {"delta", delta}};
    boost::json::object o{{"id", "chatcmpl-1"}, {"choices", boost::json::array{choice}}};
    return boost::json::serialize(o);
  };
  std::string text;
  for (std::string_view piece : {"Code [I", "D_1] is for [NA", "ME_", "1]."}) {
    std::string out = js.Feed(ev(piece));
    boost::json::value v = boost::json::parse(out);  // still valid JSON
    text += std::string(v.at("choices").at(0).at("delta").at("content").as_string());
  }
  EXPECT_TRUE(js.Finish().empty());
  EXPECT_EQ(text, "Code QX\"1234\\ is for Sarah P..");
  EXPECT_EQ(js.Feed("[DONE]"), "[DONE]");

  auto body = s.ReidentifyJsonBody(R"({"choices":[{"message":{"content":"[ID_1] / [NAME_1]"}}]})");
  ASSERT_TRUE(body.ok());
  EXPECT_NE(body->find(R"(QX\"1234\\ / Sarah P.)"), std::string::npos) << *body;
}

}  // namespace
}  // namespace baagate::phi
