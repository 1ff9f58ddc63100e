// SRV records for `_service._proto.name` targets: the lookup (res_nquery, bounded by the
// resolver's own timeouts), the pure parsing of the answer and the order records are tried in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/duration.hpp"

namespace grpcdx::probe {

// One SRV record of an answer.
struct SrvRecord {
  uint16_t priority = 0;
  uint16_t weight = 0;
  uint16_t port = 0;
  std::string target;  // without the trailing dot; "." (no service) is kept as ""
};

// True when `host` names a service by SRV: its first label starts with an underscore, as in
// "_grpc._tcp.svc.example.test".
bool is_srv_name(std::string_view host);

// Parses a DNS response message (ns_initparse / ns_parserr) and returns its SRV answers in
// the order of srv_order. Fails (local) when the message is malformed; a response with no
// SRV answers gives an empty list.
Result<std::vector<SrvRecord>> parse_srv_answer(const unsigned char* msg, size_t len);

// Sorts records the way the probe tries them: lowest priority first, then the highest weight
// first, then answer order. (RFC 2782 picks among equal priorities at random, weighted; the
// probe stays deterministic so that repeated runs and --watch compare like with like.)
void srv_order(std::vector<SrvRecord>& records);

// The outcome of an SRV query: the records, or why there are none.
struct SrvLookup {
  std::vector<SrvRecord> records;  // in srv_order
  std::string error;               // empty when the query was answered with records
};

// Queries SRV records of `name` through the system resolver (/etc/resolv.conf), with the
// resolver's per-try timeout and retries cut so that the query ends within about `bound`.
// Never fails: a failed query is `error` ("no such name (NXDOMAIN)", "no SRV records", ...).
SrvLookup lookup_srv(const std::string& name, Duration bound);

}  // namespace grpcdx::probe
