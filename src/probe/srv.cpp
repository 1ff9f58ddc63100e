// SRV lookup and answer parsing through the BIND resolver API of libresolv.
#include "probe/srv.hpp"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace grpcdx::probe {

bool is_srv_name(std::string_view host) { return host.size() > 1 && host.front() == '_' && host.find('.') != std::string_view::npos; }

Result<std::vector<SrvRecord>> parse_srv_answer(const unsigned char* msg, size_t len) {
  ns_msg handle;
  if (ns_initparse(msg, static_cast<int>(len), &handle) < 0)
    return local_error(fmt::format("malformed DNS answer ({} bytes)", len));
  std::vector<SrvRecord> records;
  int count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) < 0)
      return local_error(fmt::format("malformed DNS answer: record {} of {} cannot be read", i + 1, count));
    if (ns_rr_type(rr) != ns_t_srv) continue;  // CNAMEs on the way to the records
    const unsigned char* data = ns_rr_rdata(rr);
    if (ns_rr_rdlen(rr) < 7)
      return local_error(fmt::format("malformed DNS answer: SRV record of {} bytes", ns_rr_rdlen(rr)));
    SrvRecord r;
    r.priority = ns_get16(data);
    r.weight = ns_get16(data + 2);
    r.port = ns_get16(data + 4);
    char name[NS_MAXDNAME] = {};
    if (ns_name_uncompress(ns_msg_base(handle), ns_msg_end(handle), data + 6, name, sizeof name) < 0)
      return local_error("malformed DNS answer: an SRV target name cannot be read");
    r.target = name;
    if (r.target == ".") r.target.clear();
    if (!r.target.empty() && r.target.back() == '.') r.target.pop_back();
    records.push_back(std::move(r));
  }
  srv_order(records);
  return records;
}

void srv_order(std::vector<SrvRecord>& records) {
  std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
  });
}

SrvLookup lookup_srv(const std::string& name, Duration bound) {
  SrvLookup out;
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) {
    out.error = "cannot read the resolver configuration (/etc/resolv.conf)";
    return out;
  }
  // Each try waits `retrans` seconds per server; one retry keeps the whole query near the
  // stage bound (the caller also stops waiting at the bound).
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(bound).count();
  state.retrans = static_cast<int>(std::clamp<long long>(seconds / 2, 1, 30));
  state.retry = 1;
  unsigned char answer[NS_MAXMSG];
  int len = res_nquery(&state, name.c_str(), ns_c_in, ns_t_srv, answer, sizeof answer);
  int herr = state.res_h_errno;
  res_nclose(&state);
  if (len < 0) {
    switch (herr) {
      case HOST_NOT_FOUND: out.error = "no such name (NXDOMAIN)"; break;
      case NO_DATA: out.error = "no SRV records"; break;
      case TRY_AGAIN: out.error = "no answer from the resolver (SERVFAIL or timeout)"; break;
      default: out.error = fmt::format("the query failed: {}", hstrerror(herr)); break;
    }
    return out;
  }
  auto records = parse_srv_answer(answer, static_cast<size_t>(len));
  if (!records) {
    out.error = records.error().message;
    return out;
  }
  std::erase_if(*records, [](const SrvRecord& r) { return r.target.empty(); });
  if (records->empty()) out.error = "no SRV records";
  out.records = std::move(*records);
  return out;
}

}  // namespace grpcdx::probe
