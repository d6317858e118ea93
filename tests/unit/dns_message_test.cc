// SPDX-License-Identifier: Apache-2.0
// Query parsing (valid, malformed, EDNS) and response building (sections, truncation).
#include "userspace/dns/dns_message.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/dns_test_util.h"

namespace weft::dns {
namespace {

using testing::decode;
using testing::makeQuery;
using testing::QuerySpec;
using Bytes = std::vector<uint8_t>;
using Outcome = ParsedQuery::Outcome;

TEST(DnsMessageTest, ParsesPlainQuery) {
  Bytes msg = makeQuery(QuerySpec("web.default.svc.cluster.local", kTypeAaaa).withId(7));
  ParsedQuery p = parseQuery(msg);
  ASSERT_EQ(p.outcome, Outcome::kQuery) << p.reason;
  EXPECT_EQ(p.query.header.id, 7);
  EXPECT_TRUE(p.query.header.rd);
  EXPECT_EQ(nameToText(p.query.question.name), "web.default.svc.cluster.local.");
  EXPECT_EQ(p.query.question.type, kTypeAaaa);
  EXPECT_EQ(p.query.question.klass, kClassIn);
  EXPECT_FALSE(p.query.edns.has_value());
}

TEST(DnsMessageTest, ParsesEdns) {
  Bytes msg = makeQuery(QuerySpec("a.b").withEdns(4096));
  ParsedQuery p = parseQuery(msg);
  ASSERT_EQ(p.outcome, Outcome::kQuery) << p.reason;
  ASSERT_TRUE(p.query.edns.has_value());
  EXPECT_EQ(p.query.edns->udp_size, 4096);
  EXPECT_EQ(p.query.edns->version, 0);
}

TEST(DnsMessageTest, NewerEdnsVersionIsBadvers) {
  ParsedQuery p = parseQuery(makeQuery(QuerySpec("a.b").withEdns(1232, 1)));
  EXPECT_EQ(p.outcome, Outcome::kError);
  EXPECT_EQ(p.rcode, Rcode::kBadVers);

  auto reply = decode(buildErrorResponse(p.query.header, p.rcode));
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->header.rcode, 0);  // the low bits of 16
  ASSERT_EQ(reply->additional.size(), 1u);
  EXPECT_EQ(reply->additional[0].type, kTypeOpt);
  EXPECT_EQ(reply->additional[0].ttl >> 24, 1u);  // extended rcode 1 -> 16
}

TEST(DnsMessageTest, DropsRuntsAndResponses) {
  EXPECT_EQ(parseQuery(Bytes{}).outcome, Outcome::kDrop);
  EXPECT_EQ(parseQuery(Bytes(11, 0)).outcome, Outcome::kDrop);
  Bytes msg = makeQuery(QuerySpec("a.b"));
  msg[2] |= 0x80;  // QR
  EXPECT_EQ(parseQuery(msg).outcome, Outcome::kDrop);
}

TEST(DnsMessageTest, OtherOpcodesAreNotImplemented) {
  Bytes msg = makeQuery(QuerySpec("a.b"));
  msg[2] |= 0x28;  // opcode 5 (UPDATE)
  ParsedQuery p = parseQuery(msg);
  EXPECT_EQ(p.outcome, Outcome::kError);
  EXPECT_EQ(p.rcode, Rcode::kNotImp);
}

TEST(DnsMessageTest, QuestionCountMustBeOne) {
  Bytes none = makeQuery(QuerySpec("a.b"));
  none[5] = 0;
  EXPECT_EQ(parseQuery(none).rcode, Rcode::kFormErr);
  Bytes two = makeQuery(QuerySpec("a.b"));
  two[5] = 2;
  ParsedQuery p = parseQuery(two);
  EXPECT_EQ(p.outcome, Outcome::kError);
  EXPECT_EQ(p.rcode, Rcode::kFormErr);
}

TEST(DnsMessageTest, EveryTruncationIsFormerrOrDrop) {
  Bytes full = makeQuery(QuerySpec("web.default.svc.cluster.local").withEdns(1232));
  for (size_t len = 0; len < full.size(); ++len) {
    Bytes cut(full.begin(), full.begin() + static_cast<long>(len));
    ParsedQuery p = parseQuery(cut);
    if (len < kHeaderSize) {
      EXPECT_EQ(p.outcome, Outcome::kDrop) << len;
    } else {
      EXPECT_EQ(p.outcome, Outcome::kError) << len;
      EXPECT_EQ(p.rcode, Rcode::kFormErr) << len;
    }
  }
}

TEST(DnsMessageTest, TrailingOctetsAreFormerr) {
  Bytes msg = makeQuery(QuerySpec("a.b"));
  msg.push_back(0);
  EXPECT_EQ(parseQuery(msg).rcode, Rcode::kFormErr);
}

TEST(DnsMessageTest, PointerLoopInQuestionIsFormerr) {
  Bytes msg = makeQuery(QuerySpec("a"));
  // Replace the question name's root octet with a pointer to the name's own start.
  msg.erase(msg.begin() + 14);
  msg.insert(msg.begin() + 14, {0xc0, 12});
  ParsedQuery p = parseQuery(msg);
  EXPECT_EQ(p.outcome, Outcome::kError);
  EXPECT_EQ(p.rcode, Rcode::kFormErr);
  EXPECT_NE(p.reason.find("pointer"), std::string::npos) << p.reason;
}

TEST(DnsMessageTest, RecordLengthBeyondMessageIsFormerr) {
  Bytes msg = makeQuery(QuerySpec("a.b").withEdns(1232));
  msg[msg.size() - 1] = 10;  // OPT rdlength 10 with nothing after it
  EXPECT_EQ(parseQuery(msg).rcode, Rcode::kFormErr);
}

TEST(DnsMessageTest, OptRules) {
  // Two OPT records.
  Bytes two = makeQuery(QuerySpec("a.b").withEdns(1232));
  Bytes opt(two.end() - 11, two.end());
  two.insert(two.end(), opt.begin(), opt.end());
  two[11] = 2;
  EXPECT_EQ(parseQuery(two).rcode, Rcode::kFormErr);

  // OPT in the answer section.
  Bytes answer = makeQuery(QuerySpec("a.b").withEdns(1232));
  answer[7] = 1;
  answer[11] = 0;
  EXPECT_EQ(parseQuery(answer).rcode, Rcode::kFormErr);

  // OPT option running past its rdata.
  Bytes option = makeQuery(QuerySpec("a.b"));
  option[11] = 1;
  Bytes rr = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 8};
  option.insert(option.end(), rr.begin(), rr.end());
  EXPECT_EQ(parseQuery(option).rcode, Rcode::kFormErr);
}

TEST(DnsMessageTest, RandomMutationsNeverCrash) {
  // Bounded fuzz: each mutated query must parse to one of the three outcomes. Run under
  // -DWEFT_SANITIZE=ON to catch any read past the buffer.
  Bytes base =
      makeQuery(QuerySpec("_http._tcp.web.default.svc.cluster.local", kTypeSrv).withEdns(1232));
  std::mt19937 rng(12345);
  int queries = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes msg = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      msg[rng() % msg.size()] = static_cast<uint8_t>(rng());
    }
    if (rng() % 4 == 0) {
      msg.resize(rng() % (msg.size() + 1));
    }
    ParsedQuery p = parseQuery(msg);
    queries += p.outcome == Outcome::kQuery;
    if (p.outcome == Outcome::kError) {
      EXPECT_FALSE(buildErrorResponse(p.query.header, p.rcode).empty());
    }
  }
  EXPECT_GT(queries, 0);
}

Record aRecord(const Name& name, uint8_t last) {
  return Record{name, kTypeA, kClassIn, 5, std::array<uint8_t, 4>{10, 96, 0, last}};
}

TEST(DnsMessageTest, BuildsAnswerWithCompressedOwners) {
  Response r;
  r.id = 99;
  r.aa = true;
  r.rd = true;
  Name name = {"web", "default", "svc", "cluster", "local"};
  r.question = Question{name, kTypeA, kClassIn};
  r.answers.push_back(aRecord(name, 10));
  auto msg = decode(buildResponse(r, 512));
  ASSERT_TRUE(msg.has_value());
  EXPECT_TRUE(msg->header.qr);
  EXPECT_TRUE(msg->header.aa);
  EXPECT_EQ(msg->header.id, 99);
  ASSERT_EQ(msg->answers.size(), 1u);
  EXPECT_EQ(msg->answers[0].name, "web.default.svc.cluster.local.");
  EXPECT_EQ(msg->answers[0].rdata, (Bytes{10, 96, 0, 10}));
  // Header, question (31-octet name, type, class), answer (pointer, fixed fields, rdata).
  EXPECT_EQ(msg->raw.size(), 12u + 31 + 4 + 2 + 10 + 4);
}

TEST(DnsMessageTest, SrvTargetIsNotCompressed) {
  Response r;
  Name owner = {"web", "default", "svc", "cluster", "local"};
  r.question = Question{owner, kTypeSrv, kClassIn};
  r.answers.push_back(Record{owner, kTypeSrv, kClassIn, 5, SrvData{0, 100, 80, owner}});
  auto msg = decode(buildResponse(r, 512));
  ASSERT_TRUE(msg.has_value());
  ASSERT_EQ(msg->answers.size(), 1u);
  EXPECT_EQ(msg->answers[0].rdata.size(), 6u + 31);
  auto srv = msg->srv(msg->answers[0]);
  ASSERT_TRUE(srv.has_value());
  EXPECT_EQ(srv->port, 80);
  EXPECT_EQ(nameToText(srv->target), "web.default.svc.cluster.local.");
}

TEST(DnsMessageTest, OversizedAnswerDropsAdditionalThenTruncates) {
  Response r;
  Name owner = {"web", "default", "svc", "cluster", "local"};
  r.question = Question{owner, kTypeSrv, kClassIn};
  for (uint16_t port = 1; port <= 16; ++port) {
    r.answers.push_back(Record{owner, kTypeSrv, kClassIn, 5, SrvData{0, 100, port, owner}});
  }
  r.additional.push_back(aRecord(owner, 1));

  auto big = decode(buildResponse(r, 4096));
  ASSERT_TRUE(big.has_value());
  EXPECT_FALSE(big->header.tc);
  EXPECT_EQ(big->answers.size(), 16u);
  EXPECT_EQ(big->additional.size(), 1u);

  size_t without_additional = big->raw.size() - 16;
  auto mid = decode(buildResponse(r, without_additional));
  ASSERT_TRUE(mid.has_value());
  EXPECT_FALSE(mid->header.tc);
  EXPECT_EQ(mid->answers.size(), 16u);
  EXPECT_EQ(mid->additional.size(), 0u);

  auto small = decode(buildResponse(r, 512));
  ASSERT_TRUE(small.has_value());
  EXPECT_TRUE(small->header.tc);
  EXPECT_EQ(small->answers.size(), 0u);
  EXPECT_EQ(small->questions.size(), 1u);
}

TEST(DnsMessageTest, ErrorResponseEchoesIdAndRd) {
  Header h;
  h.id = 0x4242;
  h.rd = true;
  auto msg = decode(buildErrorResponse(h, Rcode::kFormErr));
  ASSERT_TRUE(msg.has_value());
  EXPECT_EQ(msg->header.id, 0x4242);
  EXPECT_TRUE(msg->header.qr);
  EXPECT_TRUE(msg->header.rd);
  EXPECT_EQ(msg->header.rcode, 1);
  EXPECT_TRUE(msg->questions.empty());
}

}  // namespace
}  // namespace weft::dns
