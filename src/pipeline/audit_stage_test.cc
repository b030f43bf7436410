#include "pipeline/audit_stage.h"

#include <gtest/gtest.h>

namespace baagate::pipeline {
namespace {

namespace ip = boost::asio::ip;

TEST(AuditStage, ClientNetKeepsOnlyTheNetwork) {
  EXPECT_EQ(ClientNet(ip::make_address("203.0.113.77")), "203.0.113.0/24");
  EXPECT_EQ(ClientNet(ip::make_address("::ffff:198.51.100.9")), "198.51.100.0/24");
  EXPECT_EQ(ClientNet(ip::make_address("2001:db8:abcd:12:1::5")), "2001:db8:abcd::/48");
  EXPECT_EQ(ClientNet(ip::address()), "");
  // The prefix is a valid audit id, so it is recorded.
  EXPECT_TRUE(audit::Id::Parse(ClientNet(ip::make_address("127.0.0.1"))).ok());
}

TEST(AuditStage, ActorRefIsAKeyedStablePseudonym) {
  std::string a = ActorRef("key-1", "tenant-a", "scribe-prod");
  EXPECT_EQ(a.size(), 22u);
  EXPECT_EQ(a, ActorRef("key-1", "tenant-a", "scribe-prod"));
  EXPECT_NE(a, ActorRef("key-2", "tenant-a", "scribe-prod"));  // keyed
  EXPECT_NE(a, ActorRef("key-1", "tenant-b", "scribe-prod"));  // per tenant
  EXPECT_EQ(a.find("scribe"), std::string::npos);
  EXPECT_EQ(ActorRef("", "tenant-a", "scribe-prod"), "");
}

TEST(AuditStage, DecisionRecordCarriesClientNetAndActorRef) {
  Principal p;
  p.key_name = "scribe-prod";
  p.tenant = "tenant-a";
  p.app = "scribe";
  DecisionFacts f;
  f.request_id = "req-1";
  f.principal = &p;
  f.client_address = ip::make_address("192.0.2.200");
  f.actor_key = "k";
  auto r = MakeDecisionRecord(f);
  EXPECT_EQ(r.client_net.str(), "192.0.2.0/24");
  EXPECT_EQ(r.actor_ref.str(), ActorRef("k", "tenant-a", "scribe-prod"));
  EXPECT_EQ(r.credential_ref.str(), "scribe-prod");
}

TEST(AuditStage, OutcomeRecordCarriesModelServedOnlyIfIdShaped) {
  OutcomeFacts f;
  f.decision_event_id = "01890000-0000-7000-8000-000000000000";
  f.model_served = "gpt-4o-2024-08-06";
  EXPECT_EQ(MakeOutcomeRecord(f).model_served.str(), "gpt-4o-2024-08-06");
  f.model_served = "not a model: Patient John";
  EXPECT_TRUE(MakeOutcomeRecord(f).model_served.empty());
}

}  // namespace
}  // namespace baagate::pipeline
