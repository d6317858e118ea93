// SPDX-License-Identifier: Apache-2.0
// DNS wire reader and writer: names, compression pointers, and malformed input that must be
// rejected without reading past the message.
#include "userspace/dns/dns_wire.h"

#include <gtest/gtest.h>

#include <vector>

namespace weft::dns {
namespace {

using Bytes = std::vector<uint8_t>;

// A 12-octet header (all zero) followed by `body`; names are read from offset 12.
Bytes withHeader(const Bytes& body) {
  Bytes msg(kHeaderSize, 0);
  for (uint8_t b : body) {
    msg.push_back(b);
  }
  return msg;
}

Result<Name> nameAt(const Bytes& msg, size_t offset, size_t* end = nullptr) {
  WireReader reader(msg);
  EXPECT_TRUE(reader.skip(offset));
  auto name = reader.name();
  if (end != nullptr) {
    *end = reader.offset();
  }
  return name;
}

TEST(DnsWireTest, ReadsPlainName) {
  Bytes msg = withHeader({3, 'w', 'e', 'b', 7, 'd', 'e', 'f', 'a', 'u', 'l', 't', 0, 0xaa});
  size_t end = 0;
  auto name = nameAt(msg, 12, &end);
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(*name, (Name{"web", "default"}));
  EXPECT_EQ(end, 25u);
}

TEST(DnsWireTest, ReadsRootName) {
  Bytes msg = withHeader({0});
  auto name = nameAt(msg, 12);
  ASSERT_TRUE(name.ok());
  EXPECT_TRUE(name->empty());
  EXPECT_EQ(nameToText(*name), ".");
}

TEST(DnsWireTest, FollowsBackwardPointerAndResumesAfterIt) {
  // 12: "local" root; 19: "svc" + pointer to 12; 25: next field.
  Bytes msg = withHeader({5, 'l', 'o', 'c', 'a', 'l', 0, 3, 's', 'v', 'c', 0xc0, 12, 0x77});
  size_t end = 0;
  auto name = nameAt(msg, 19, &end);
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(*name, (Name{"svc", "local"}));
  EXPECT_EQ(end, 25u);
}

TEST(DnsWireTest, RejectsPointerToItself) {
  Bytes msg = withHeader({0xc0, 12});
  auto name = nameAt(msg, 12);
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.error().message.find("bad compression pointer"), std::string::npos);
}

TEST(DnsWireTest, RejectsForwardPointer) {
  Bytes msg = withHeader({0xc0, 14, 0});
  EXPECT_FALSE(nameAt(msg, 12).ok());
}

TEST(DnsWireTest, RejectsPointerLoopThroughEarlierLabels) {
  // 12: "a" then a pointer back to 12: each jump is backwards from the pointer itself, but
  // lands at the start of the run that holds it, which would loop forever.
  Bytes msg = withHeader({1, 'a', 0xc0, 12});
  EXPECT_FALSE(nameAt(msg, 12).ok());
  // Two names pointing at each other.
  Bytes pair = withHeader({1, 'a', 0xc0, 16, 1, 'b', 0xc0, 12});
  EXPECT_FALSE(nameAt(pair, 16).ok());
  EXPECT_FALSE(nameAt(pair, 12).ok());
}

TEST(DnsWireTest, RejectsPointerIntoHeaderOrPastEnd) {
  EXPECT_FALSE(nameAt(withHeader({0xc0, 3}), 12).ok());
  EXPECT_FALSE(nameAt(withHeader({0xff, 0xff}), 12).ok());
}

TEST(DnsWireTest, RejectsPointerCutOff) {
  EXPECT_FALSE(nameAt(withHeader({1, 'a', 0xc0}), 12).ok());
}

TEST(DnsWireTest, RejectsTruncatedLabelAndMissingRoot) {
  EXPECT_FALSE(nameAt(withHeader({5, 'a', 'b'}), 12).ok());
  EXPECT_FALSE(nameAt(withHeader({1, 'a'}), 12).ok());
  EXPECT_FALSE(nameAt(withHeader({}), 12).ok());
}

TEST(DnsWireTest, RejectsExtendedLabelTypes) {
  // 64 and 128 are the obsolete 0x40/0x80 label types, not lengths.
  Bytes long_label = {64};
  long_label.insert(long_label.end(), 64, 'x');
  long_label.push_back(0);
  EXPECT_FALSE(nameAt(withHeader(long_label), 12).ok());
  EXPECT_FALSE(nameAt(withHeader({0x80, 0}), 12).ok());
}

TEST(DnsWireTest, RejectsNameLongerThan255Octets) {
  Bytes body;
  for (int i = 0; i < 4; ++i) {
    body.push_back(63);
    body.insert(body.end(), 63, 'a');
  }
  body.push_back(0);  // 4 * 64 + 1 = 257 octets
  auto name = nameAt(withHeader(body), 12);
  ASSERT_FALSE(name.ok());
  EXPECT_NE(name.error().message.find("longer than 255"), std::string::npos);

  Bytes ok_body;
  for (int i = 0; i < 3; ++i) {
    ok_body.push_back(63);
    ok_body.insert(ok_body.end(), 63, 'a');
  }
  ok_body.push_back(61);
  ok_body.insert(ok_body.end(), 61, 'b');
  ok_body.push_back(0);  // 3 * 64 + 62 + 1 = 255 octets
  EXPECT_TRUE(nameAt(withHeader(ok_body), 12).ok());
}

TEST(DnsWireTest, RejectsLongNameBuiltFromPointers) {
  // Each 63-octet label is reached again through a pointer chain: 5 * 64 octets > 255.
  Bytes body;
  size_t prev = 0;
  for (int i = 0; i < 5; ++i) {
    size_t at = kHeaderSize + body.size();
    body.push_back(63);
    body.insert(body.end(), 63, static_cast<uint8_t>('a' + i));
    if (i == 0) {
      body.push_back(0);
    } else {
      body.push_back(static_cast<uint8_t>(0xc0 | (prev >> 8)));
      body.push_back(static_cast<uint8_t>(prev));
    }
    prev = at;
  }
  auto name = nameAt(withHeader(body), prev);
  EXPECT_FALSE(name.ok());
}

TEST(DnsWireTest, HeaderNeedsTwelveOctets) {
  Bytes msg(11, 0);
  WireReader reader(msg);
  EXPECT_FALSE(reader.header().ok());
  EXPECT_EQ(reader.offset(), 0u);
}

TEST(DnsWireTest, FixedWidthReadsStopAtTheEnd) {
  Bytes msg = {1, 2, 3};
  WireReader reader(msg);
  uint32_t v32 = 0;
  uint16_t v16 = 0;
  uint8_t v8 = 0;
  EXPECT_FALSE(reader.u32(&v32));
  EXPECT_TRUE(reader.u16(&v16));
  EXPECT_EQ(v16, 0x0102);
  EXPECT_FALSE(reader.u16(&v16));
  EXPECT_TRUE(reader.u8(&v8));
  EXPECT_FALSE(reader.u8(&v8));
  EXPECT_FALSE(reader.skip(1));
  EXPECT_EQ(reader.remaining(), 0u);
}

TEST(DnsWireTest, HeaderRoundTrip) {
  Header h;
  h.id = 0xbeef;
  h.qr = true;
  h.opcode = 2;
  h.aa = true;
  h.rd = true;
  h.ra = true;
  h.rcode = 3;
  h.qdcount = 1;
  h.arcount = 2;
  WireWriter w(512);
  w.header(h);
  Bytes out = w.take();
  WireReader reader(out);
  auto back = reader.header();
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->id, 0xbeef);
  EXPECT_TRUE(back->qr && back->aa && back->rd && back->ra);
  EXPECT_FALSE(back->tc);
  EXPECT_EQ(back->opcode, 2);
  EXPECT_EQ(back->rcode, 3);
  EXPECT_EQ(back->qdcount, 1);
  EXPECT_EQ(back->arcount, 2);
}

TEST(DnsWireTest, WriterCompressesCaseInsensitively) {
  WireWriter w(512);
  w.header(Header{});
  w.name({"Web", "default", "svc", "cluster", "local"}, true);
  size_t second = w.size();
  w.name({"web", "DEFAULT", "svc", "cluster", "local"}, true);
  size_t third = w.size();
  w.name({"_http", "_tcp", "web", "default", "svc", "cluster", "local"}, true);
  Bytes out = w.take();

  EXPECT_EQ(third - second, 2u);  // one pointer
  EXPECT_EQ(out[second], 0xc0);
  EXPECT_EQ(out[second + 1], 12);
  size_t end = 0;
  auto name = nameAt(out, third, &end);
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_EQ(nameToText(*name), "_http._tcp.Web.default.svc.cluster.local.");
  EXPECT_EQ(end, out.size());
}

TEST(DnsWireTest, WriterWithoutCompressionWritesEveryLabel) {
  WireWriter w(512);
  w.header(Header{});
  w.name({"a", "b"}, true);
  size_t before = w.size();
  w.name({"a", "b"}, false);
  EXPECT_EQ(w.size() - before, 5u);
}

TEST(DnsWireTest, WriterFlagsOverflowAndInvalidNames) {
  WireWriter small(3);
  small.u16(1);
  EXPECT_FALSE(small.overflowed());
  small.u16(2);
  EXPECT_TRUE(small.overflowed());
  EXPECT_EQ(small.size(), 2u);

  WireWriter w(512);
  w.name({"ok", ""}, true);
  EXPECT_TRUE(w.invalid());
  WireWriter w2(512);
  w2.name({std::string(64, 'x')}, true);
  EXPECT_TRUE(w2.invalid());
}

TEST(DnsWireTest, ParsesDomainText) {
  auto name = parseNameText("Cluster.Local.", "dns.domain");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, (Name{"cluster", "local"}));

  auto empty = parseNameText("", "dns.domain");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "dns.domain: \"\" is not a domain name (empty)");
  EXPECT_FALSE(parseNameText("a..b", "dns.domain").ok());
  EXPECT_FALSE(parseNameText(".", "dns.domain").ok());
  EXPECT_FALSE(parseNameText("bad_label.local", "dns.domain").ok());
  EXPECT_FALSE(parseNameText(std::string(64, 'a') + ".local", "dns.domain").ok());
}

TEST(DnsWireTest, NameTextEscapesOddBytes) {
  EXPECT_EQ(nameToText({"a.b", std::string("c\0d", 3)}), "a\\.b.c\\000d.");
  EXPECT_TRUE(namesEqual({"WEB", "x"}, {"web", "X"}));
  EXPECT_TRUE(nameEndsWith({"web", "cluster", "local"}, {"Cluster", "LOCAL"}));
  EXPECT_FALSE(nameEndsWith({"local"}, {"cluster", "local"}));
}

}  // namespace
}  // namespace weft::dns
