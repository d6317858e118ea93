// SPDX-License-Identifier: Apache-2.0
// The DNS server's logic on bytes: zone answers (A, AAAA, SRV, NODATA, NXDOMAIN), refusals,
// forwarding decisions, case handling, truncation and record replacement.
#include "userspace/dns/query_handler.h"

#include <gtest/gtest.h>

#include "tests/unit/dns_test_util.h"

namespace weft::dns {
namespace {

using testing::decode;
using testing::DecodedMessage;
using testing::makeQuery;
using testing::QuerySpec;
using Bytes = std::vector<uint8_t>;

registry::Service service(const std::string& name, const std::string& ns, const char* vip,
                          std::vector<registry::ServicePort> ports) {
  registry::Service s;
  s.name = name;
  s.ns = ns;
  s.vip = *IpAddr::parse(vip);
  s.ports = std::move(ports);
  return s;
}

std::vector<registry::Service> sampleServices() {
  return {
      service("web", "default", "10.96.0.10",
              {{"http", 80, WEFT_PROTO_TCP},
               {"metrics", 9090, WEFT_PROTO_TCP},
               {"dns", 53, WEFT_PROTO_UDP}}),
      service("api", "prod", "fd00:96::20", {{"", 443, WEFT_PROTO_TCP}}),
  };
}

class QueryHandlerTest : public ::testing::Test {
 protected:
  QueryHandlerTest() : handler_(options()) { handler_.setRecords(sampleServices()); }

  static DnsOptions options(bool forward = false) {
    DnsOptions o;
    o.domain = "cluster.local";
    o.ttl_seconds = 7;
    if (forward) {
      o.forward = SocketAddress{*IpAddr::parse("127.0.0.1"), 5300};
    }
    return o;
  }

  DecodedMessage ask(const QuerySpec& spec, Transport transport = Transport::kUdp) {
    Decision d = handler_.handle(makeQuery(spec), transport);
    EXPECT_EQ(d.action, Decision::Action::kRespond);
    auto msg = decode(d.response);
    EXPECT_TRUE(msg.has_value());
    EXPECT_EQ(msg->header.id, spec.id);
    EXPECT_TRUE(msg->header.qr);
    return msg.value_or(DecodedMessage{});
  }

  QueryHandler handler_;
};

TEST_F(QueryHandlerTest, AnswersARecordWithTheVip) {
  auto msg = ask(QuerySpec("web.default.svc.cluster.local", kTypeA));
  EXPECT_EQ(msg.header.rcode, 0);
  EXPECT_TRUE(msg.header.aa);
  EXPECT_TRUE(msg.header.rd);
  EXPECT_FALSE(msg.header.ra);
  ASSERT_EQ(msg.answers.size(), 1u);
  EXPECT_EQ(msg.answers[0].type, kTypeA);
  EXPECT_EQ(msg.answers[0].ttl, 7u);
  EXPECT_EQ(msg.answers[0].rdata, (Bytes{10, 96, 0, 10}));
}

TEST_F(QueryHandlerTest, MatchesCaseInsensitivelyAndKeepsTheAskedCase) {
  auto msg = ask(QuerySpec("WEB.Default.SVC.cluster.LOCAL.", kTypeA));
  ASSERT_EQ(msg.answers.size(), 1u);
  EXPECT_EQ(msg.answers[0].name, "WEB.Default.SVC.cluster.LOCAL.");
}

TEST_F(QueryHandlerTest, AaaaForIpv6VipAndNodataAcrossFamilies) {
  auto v6 = ask(QuerySpec("api.prod.svc.cluster.local", kTypeAaaa));
  ASSERT_EQ(v6.answers.size(), 1u);
  EXPECT_EQ(v6.answers[0].type, kTypeAaaa);
  EXPECT_EQ(v6.answers[0].rdata, (Bytes{0xfd, 0, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20}));

  for (auto [name, type] : {std::pair{"api.prod.svc.cluster.local", kTypeA},
                            std::pair{"web.default.svc.cluster.local", kTypeAaaa}}) {
    auto msg = ask(QuerySpec(name, type));
    EXPECT_EQ(msg.header.rcode, 0) << name;
    EXPECT_TRUE(msg.answers.empty()) << name;
    ASSERT_EQ(msg.authority.size(), 1u) << name;
    EXPECT_EQ(msg.authority[0].type, kTypeSoa);
    EXPECT_EQ(msg.authority[0].name, "cluster.local.");
  }
}

TEST_F(QueryHandlerTest, ServiceSrvListsEveryPort) {
  auto msg = ask(QuerySpec("web.default.svc.cluster.local", kTypeSrv));
  ASSERT_EQ(msg.answers.size(), 3u);
  std::vector<uint16_t> ports;
  for (const auto& rec : msg.answers) {
    auto srv = msg.srv(rec);
    ASSERT_TRUE(srv.has_value());
    EXPECT_EQ(nameToText(srv->target), "web.default.svc.cluster.local.");
    ports.push_back(srv->port);
  }
  EXPECT_EQ(ports, (std::vector<uint16_t>{80, 9090, 53}));
  ASSERT_EQ(msg.additional.size(), 1u);
  EXPECT_EQ(msg.additional[0].type, kTypeA);
  EXPECT_EQ(msg.additional[0].name, "web.default.svc.cluster.local.");
}

TEST_F(QueryHandlerTest, NamedPortSrv) {
  auto http = ask(QuerySpec("_http._tcp.web.default.svc.cluster.local", kTypeSrv));
  ASSERT_EQ(http.answers.size(), 1u);
  auto srv = http.srv(http.answers[0]);
  ASSERT_TRUE(srv.has_value());
  EXPECT_EQ(srv->port, 80);
  EXPECT_EQ(nameToText(srv->target), "web.default.svc.cluster.local.");
  ASSERT_EQ(http.additional.size(), 1u);
  EXPECT_EQ(http.additional[0].rdata, (Bytes{10, 96, 0, 10}));

  auto dns = ask(QuerySpec("_DNS._UDP.web.default.svc.cluster.local", kTypeSrv));
  ASSERT_EQ(dns.answers.size(), 1u);
  EXPECT_EQ(dns.srv(dns.answers[0])->port, 53);

  // The unnamed port of a one-port service has only the service-level SRV.
  auto api = ask(QuerySpec("api.prod.svc.cluster.local", kTypeSrv));
  ASSERT_EQ(api.answers.size(), 1u);
  EXPECT_EQ(api.srv(api.answers[0])->port, 443);
  ASSERT_EQ(api.additional.size(), 1u);
  EXPECT_EQ(api.additional[0].type, kTypeAaaa);
}

TEST_F(QueryHandlerTest, NxdomainForUnknownNamesInTheDomain) {
  for (const char* name :
       {"nope.default.svc.cluster.local", "web.other.svc.cluster.local",
        "x.web.default.svc.cluster.local", "_http._udp.web.default.svc.cluster.local",
        "_nope._tcp.web.default.svc.cluster.local", "foo.cluster.local",
        "a.b.c.d._http._tcp.web.default.svc.cluster.local", "other.svc.cluster.local"}) {
    auto msg = ask(QuerySpec(name, kTypeA));
    EXPECT_EQ(msg.header.rcode, 3) << name;
    EXPECT_TRUE(msg.header.aa) << name;
    EXPECT_TRUE(msg.answers.empty()) << name;
    EXPECT_EQ(msg.authority.size(), 1u) << name;
  }
}

TEST_F(QueryHandlerTest, NodataForNamesThatExistWithoutRecords) {
  for (const char* name :
       {"cluster.local", "svc.cluster.local", "default.svc.cluster.local",
        "_tcp.web.default.svc.cluster.local", "_http._tcp.web.default.svc.cluster.local"}) {
    auto msg = ask(QuerySpec(name, kTypeA));
    EXPECT_EQ(msg.header.rcode, 0) << name;
    EXPECT_TRUE(msg.answers.empty()) << name;
  }
  auto mx = ask(QuerySpec("web.default.svc.cluster.local", 15));
  EXPECT_EQ(mx.header.rcode, 0);
  EXPECT_TRUE(mx.answers.empty());
}

TEST_F(QueryHandlerTest, ApexSoa) {
  auto msg = ask(QuerySpec("cluster.local", kTypeSoa));
  ASSERT_EQ(msg.answers.size(), 1u);
  EXPECT_EQ(msg.answers[0].type, kTypeSoa);
}

TEST_F(QueryHandlerTest, RefusesOtherNamesWithoutUpstream) {
  auto msg = ask(QuerySpec("example.com", kTypeA));
  EXPECT_EQ(msg.header.rcode, 5);
  EXPECT_FALSE(msg.header.aa);
  ASSERT_EQ(msg.questions.size(), 1u);
  // A name that only ends like the domain is still outside it.
  auto near = ask(QuerySpec("web.default.svc.notcluster.local", kTypeA));
  EXPECT_EQ(near.header.rcode, 5);
}

TEST_F(QueryHandlerTest, RefusesOtherClassesInTheDomain) {
  auto msg = ask(QuerySpec("web.default.svc.cluster.local", kTypeA).withClass(3));
  EXPECT_EQ(msg.header.rcode, 5);
}

TEST_F(QueryHandlerTest, ForwardsOtherNamesWhenUpstreamConfigured) {
  QueryHandler fwd(options(true));
  fwd.setRecords(sampleServices());
  Decision out = fwd.handle(makeQuery(QuerySpec("example.com")), Transport::kUdp);
  EXPECT_EQ(out.action, Decision::Action::kForward);
  Decision in = fwd.handle(makeQuery(QuerySpec("web.default.svc.cluster.local")), Transport::kUdp);
  ASSERT_EQ(in.action, Decision::Action::kRespond);
  auto msg = decode(in.response);
  ASSERT_TRUE(msg.has_value());
  EXPECT_TRUE(msg->header.ra);

  auto fail = decode(fwd.servfail(makeQuery(QuerySpec("example.com").withId(77))));
  ASSERT_TRUE(fail.has_value());
  EXPECT_EQ(fail->header.rcode, 2);
  EXPECT_EQ(fail->header.id, 77);
}

TEST_F(QueryHandlerTest, MalformedGetsFormerrAndResponsesAreDropped) {
  Bytes bad = makeQuery(QuerySpec("web.default.svc.cluster.local"));
  bad.pop_back();
  Decision d = handler_.handle(bad, Transport::kUdp);
  ASSERT_EQ(d.action, Decision::Action::kRespond);
  EXPECT_EQ(d.rcode, Rcode::kFormErr);
  auto msg = decode(d.response);
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(msg->header.rcode, 1);
  EXPECT_EQ(msg->header.id, 0x1234);

  Bytes response = makeQuery(QuerySpec("web.default.svc.cluster.local"));
  response[2] |= 0x80;
  EXPECT_EQ(handler_.handle(response, Transport::kUdp).action, Decision::Action::kDrop);
}

TEST_F(QueryHandlerTest, EdnsAnswersCarryOpt) {
  auto msg = ask(QuerySpec("web.default.svc.cluster.local", kTypeA).withEdns(4096));
  ASSERT_EQ(msg.additional.size(), 1u);
  EXPECT_EQ(msg.additional[0].type, kTypeOpt);
  EXPECT_EQ(msg.additional[0].klass, 1232);  // our buffer size, not the client's
}

TEST_F(QueryHandlerTest, LargeSrvAnswersTruncateOverUdpOnlyWithoutEdns) {
  std::vector<registry::ServicePort> ports;
  for (uint16_t p = 1; p <= 16; ++p) {
    ports.push_back({"p" + std::to_string(p), p, WEFT_PROTO_TCP});
  }
  handler_.setRecords({service("many", "default", "10.96.0.30", ports)});
  QuerySpec spec("many.default.svc.cluster.local", kTypeSrv);

  auto udp = ask(spec);
  EXPECT_TRUE(udp.header.tc);
  EXPECT_TRUE(udp.answers.empty());
  auto tcp = ask(spec, Transport::kTcp);
  EXPECT_FALSE(tcp.header.tc);
  EXPECT_EQ(tcp.answers.size(), 16u);
  spec.withEdns(1232);
  auto edns = ask(spec);
  EXPECT_FALSE(edns.header.tc);
  EXPECT_EQ(edns.answers.size(), 16u);
}

TEST_F(QueryHandlerTest, SetRecordsReplacesEverything) {
  EXPECT_EQ(handler_.serviceCount(), 2u);
  handler_.setRecords({service("new", "default", "10.96.0.40", {{"", 80, WEFT_PROTO_TCP}})});
  EXPECT_EQ(handler_.serviceCount(), 1u);
  EXPECT_EQ(ask(QuerySpec("web.default.svc.cluster.local")).header.rcode, 3);
  auto msg = ask(QuerySpec("new.default.svc.cluster.local"));
  ASSERT_EQ(msg.answers.size(), 1u);
  EXPECT_EQ(msg.answers[0].rdata, (Bytes{10, 96, 0, 40}));
}

TEST_F(QueryHandlerTest, ConfigurableDomain) {
  DnsOptions o = options();
  o.domain = "mesh.example";
  QueryHandler custom(o);
  custom.setRecords(sampleServices());
  Decision d = custom.handle(makeQuery(QuerySpec("web.default.svc.mesh.example")), Transport::kUdp);
  auto msg = decode(d.response);
  ASSERT_TRUE(msg.has_value());
  ASSERT_EQ(msg->answers.size(), 1u);
  Decision old =
      custom.handle(makeQuery(QuerySpec("web.default.svc.cluster.local")), Transport::kUdp);
  EXPECT_EQ(decode(old.response)->header.rcode, 5);
}

}  // namespace
}  // namespace weft::dns
