// Unit tests for src/probe/srv: DNS answers built byte by byte in, SRV records in probe order
// out; malformed answers give the exact error text.
#include <doctest.h>

#include <string>
#include <vector>

#include "probe/srv.hpp"

using namespace grpcdx::probe;

namespace {

using Bytes = std::vector<unsigned char>;

void put16(Bytes& b, unsigned v) {
  b.push_back(static_cast<unsigned char>(v >> 8));
  b.push_back(static_cast<unsigned char>(v & 0xff));
}

Bytes encode_name(const std::string& name) {
  Bytes out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<unsigned char>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

struct Answer {
  unsigned type;
  Bytes rdata;
};

// A response to one SRV question for `qname` with `answers`, each owner name a pointer to the
// question (0xC00C), as servers write them.
Bytes response(const std::string& qname, const std::vector<Answer>& answers) {
  Bytes b;
  put16(b, 0x1234);  // id
  put16(b, 0x8180);  // QR RD RA, NOERROR
  put16(b, 1);
  put16(b, static_cast<unsigned>(answers.size()));
  put16(b, 0);
  put16(b, 0);
  Bytes q = encode_name(qname);
  b.insert(b.end(), q.begin(), q.end());
  put16(b, 33);
  put16(b, 1);
  for (const auto& a : answers) {
    put16(b, 0xC00C);
    put16(b, a.type);
    put16(b, 1);
    put16(b, 0);
    put16(b, 60);  // ttl
    put16(b, static_cast<unsigned>(a.rdata.size()));
    b.insert(b.end(), a.rdata.begin(), a.rdata.end());
  }
  return b;
}

Answer srv(unsigned prio, unsigned weight, unsigned port, const std::string& target) {
  Answer a{33, {}};
  put16(a.rdata, prio);
  put16(a.rdata, weight);
  put16(a.rdata, port);
  Bytes n = encode_name(target);
  a.rdata.insert(a.rdata.end(), n.begin(), n.end());
  return a;
}

std::vector<std::string> targets(const std::vector<SrvRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) out.push_back(r.target);
  return out;
}

}  // namespace

TEST_CASE("probe::is_srv_name") {
  CHECK(is_srv_name("_grpc._tcp.svc.example.test"));
  CHECK(is_srv_name("_grpclb._tcp.example.com"));
  CHECK_FALSE(is_srv_name("svc.example.test"));
  CHECK_FALSE(is_srv_name("_"));
  CHECK_FALSE(is_srv_name("_local"));
  CHECK_FALSE(is_srv_name("a._grpc.test"));
}

TEST_CASE("probe::parse_srv_answer reads every record, in priority then weight order") {
  auto msg = response("_grpc._tcp.svc.test", {srv(20, 100, 9000, "c.svc.test"), srv(10, 5, 50051, "a.svc.test"),
                                               srv(10, 60, 50052, "b.svc.test"), srv(10, 5, 50053, "d.svc.test")});
  auto records = parse_srv_answer(msg.data(), msg.size());
  REQUIRE(records);
  CHECK(targets(*records) == std::vector<std::string>{"b.svc.test", "a.svc.test", "d.svc.test", "c.svc.test"});
  const SrvRecord& first = records->front();
  CHECK(first.priority == 10);
  CHECK(first.weight == 60);
  CHECK(first.port == 50052);
  CHECK(records->back().port == 9000);
}

TEST_CASE("probe::parse_srv_answer skips other record types and keeps '.' as no target") {
  Answer cname{5, encode_name("real.svc.test")};
  auto msg = response("_grpc._tcp.svc.test", {cname, srv(0, 0, 0, "")});
  auto records = parse_srv_answer(msg.data(), msg.size());
  REQUIRE(records);
  REQUIRE(records->size() == 1);
  CHECK(records->front().target == "");
}

TEST_CASE("probe::parse_srv_answer: no answers is an empty list") {
  auto msg = response("_grpc._tcp.svc.test", {});
  auto records = parse_srv_answer(msg.data(), msg.size());
  REQUIRE(records);
  CHECK(records->empty());
}

TEST_CASE("probe::parse_srv_answer: malformed answers") {
  auto msg = response("_grpc._tcp.svc.test", {srv(10, 5, 50051, "a.svc.test")});
  CHECK(parse_srv_answer(msg.data(), 5).error().message == "malformed DNS answer (5 bytes)");
  Bytes cut(msg.begin(), msg.end() - 4);
  CHECK(parse_srv_answer(cut.data(), cut.size()).error().message ==
        "malformed DNS answer (" + std::to_string(cut.size()) + " bytes)");
  Answer tiny{33, {0, 1, 0, 2}};
  auto short_rdata = response("_grpc._tcp.svc.test", {tiny});
  CHECK(parse_srv_answer(short_rdata.data(), short_rdata.size()).error().message ==
        "malformed DNS answer: SRV record of 4 bytes");
}

TEST_CASE("probe::srv_order is stable among equal records") {
  std::vector<SrvRecord> r{{1, 1, 1, "x"}, {0, 1, 2, "y"}, {1, 1, 3, "z"}, {0, 2, 4, "w"}};
  srv_order(r);
  CHECK(targets(r) == std::vector<std::string>{"w", "y", "x", "z"});
}
