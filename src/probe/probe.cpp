// The probe's orchestration (stage order, skipping after a failure, --all), its JSON and its
// readable report.
#include "core/current_step.hpp"
#include "probe/probe.hpp"

#include <algorithm>
#include <cmath>

#include <netinet/in.h>

#include <fmt/format.h>

#include "core/printable.hpp"
#include "probe/stages.hpp"

namespace grpcdx::probe {

using json = nlohmann::ordered_json;

namespace {

constexpr const char* k_stage_names[] = {"dns", "tcp", "tls", "http2", "grpc"};

// Runs tcp, tls, http2 and grpc against `endpoints` (the dns stage already done) and fills
// the report's stages; every stage after a failure is skipped.
Result<void> run_after_dns(const StageContext& c, const std::vector<Endpoint>& endpoints, bool pin, ProbeReport& r) {
  auto skip_rest = [&](size_t from) {
    for (size_t i = from; i < std::size(k_stage_names); ++i) r.stages.push_back(skipped(k_stage_names[i]));
  };
  std::unique_ptr<Transport> conn;
  set_current_step("probing the tcp stage");
  r.stages.push_back(tcp_stage(c, endpoints, conn, r.address));
  if (r.stages.back().status == StageStatus::fail) {
    skip_rest(2);
    return {};
  }
  const Endpoint* endpoint = &endpoints.front();
  for (const auto& ep : endpoints)
    if (ep.text == r.address) endpoint = &ep;
  const bool tls = !c.opt->conn.plaintext;
  std::string early;
  if (tls) {
    set_current_step("probing the tls stage");
    TRY(auto stage, tls_stage(c, *conn, early));
    r.stages.push_back(std::move(stage));
    if (r.stages.back().status == StageStatus::fail) {
      skip_rest(3);
      return {};
    }
  } else {
    r.stages.push_back(skipped("tls", "--plaintext"));
  }
  set_current_step("probing the http2 stage");
  r.stages.push_back(http2_stage(c, *conn, *endpoint, tls, std::move(early)));
  conn.reset();  // the probe connection is done; the grpc stage opens its own channel
  if (r.stages.back().status == StageStatus::fail) {
    skip_rest(4);
    return {};
  }
  set_current_step("probing the grpc stage");
  TRY(auto stage, grpc_stage(c, pin ? endpoint : nullptr));
  r.stages.push_back(std::move(stage));
  return {};
}

// Reads the certificate files once up front, so a typo is a local error before any traffic.
Result<void> check_files(const net::ConnectionOptions& conn) {
  if (!conn.cacert.empty()) TRY_VOID(net::read_file(conn.cacert, "CA bundle"));
  if (!conn.cert.empty()) TRY_VOID(net::read_file(conn.cert, "client certificate"));
  if (!conn.key.empty()) TRY_VOID(net::read_file(conn.key, "client key"));
  return {};
}

// The options of one SRV instance: the record's target and port stand in for the SRV name, so
// TLS checks and :authority use the name the record points at, as a gRPC client would.
ProbeOptions srv_instance_options(const ProbeOptions& opt, const Endpoint& ep) {
  ProbeOptions o = opt;
  auto port = ntohs(reinterpret_cast<const sockaddr_in*>(&ep.addr)->sin_port);  // same offset in sockaddr_in6
  o.conn.target.kind = net::Target::Kind::host_port;
  o.conn.target.host = ep.name;
  o.conn.target.port = std::to_string(port);
  o.conn.target.authority = fmt::format("{}:{}", ep.name, port);
  o.conn.target.grpc_uri = o.conn.target.authority;
  return o;
}

bool same_record(const Endpoint& a, const Endpoint& b) {
  return a.name == b.name &&
         reinterpret_cast<const sockaddr_in*>(&a.addr)->sin_port == reinterpret_cast<const sockaddr_in*>(&b.addr)->sin_port;
}

StageContext context_of(const ProbeOptions& opt) {
  return StageContext{&opt, format_duration(opt.stage_timeout)};
}

void finish(ProbeReport& r, Clock::time_point start) {
  r.verdict = verdict_of(r.stages, r.address);
  r.total = Clock::now() - start;
}

const char* mark(StageStatus s, bool color) {
  switch (s) {
    case StageStatus::ok: return color ? "\033[32mok  \033[0m" : "ok  ";
    case StageStatus::fail: return color ? "\033[1;31mFAIL\033[0m" : "FAIL";
    case StageStatus::skip: return color ? "\033[2mskip\033[0m" : "skip";
  }
  return "";
}

std::string join_strings(const json& list, const char* sep = ", ") {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : sep) + (item.is_string() ? item.get<std::string>() : item.dump());
  return out;
}

// printable_line for each line of a multi-line text (a stage's details continue on indented lines).
std::string printable_lines(std::string_view text) {
  std::string out;
  for (size_t start = 0;;) {
    size_t end = text.find('\n', start);
    out += printable_line(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return out;
    out += '\n';
    start = end + 1;
  }
}

// The short detail of a stage for the text report.
std::string stage_details(const StageResult& s) {
  const json& d = s.detail;
  std::string out;
  if (s.status == StageStatus::skip) return d.contains("reason") ? d["reason"].get<std::string>() : std::string();
  if (s.name == "dns" && d.contains("srv")) {
    out = d.value("name", std::string()) + " SRV";
    for (const auto& rec : d["srv"]) {
      out += fmt::format("\n              priority {} weight {} port {} target {} -> {}", rec["priority"].get<int>(),
                         rec["weight"].get<int>(), rec["port"].get<int>(), rec["target"].get<std::string>(),
                         rec.contains("error") ? rec["error"].get<std::string>() : join_strings(rec["addresses"]));
    }
  } else if (s.name == "dns") {
    out = d.value("name", std::string());
    if (d.contains("addresses")) out += " -> " + join_strings(d["addresses"]);
  }
  if (s.name == "tcp") {
    out = "connected to " + d.value("address", std::string());
    if (s.status == StageStatus::fail) out = "dialled " + join_strings([&] {
      json a = json::array();
      for (const auto& x : d["attempts"]) a.push_back(x["address"].get<std::string>() + " (" + x["error"].get<std::string>() + ")");
      return a;
    }());
  }
  if (s.name == "tls") {
    if (d.contains("version")) {
      out = fmt::format("{} {}, ALPN {}", d["version"].get<std::string>(), d["cipher"].get<std::string>(),
                        d["alpn"].get<std::string>().empty() ? std::string("none") : d["alpn"].get<std::string>());
      if (d.contains("chain") && !d["chain"].empty()) {
        const json& leaf = d["chain"][0];
        out += fmt::format("\n              subject {}  issuer {}\n              SANs {}\n              valid {} .. {} "
                           "({})",
                           leaf["subject"].get<std::string>(), leaf["issuer"].get<std::string>(),
                           leaf["sans"].empty() ? std::string("none") : join_strings(leaf["sans"]),
                           leaf["not_before"].get<std::string>(), leaf["not_after"].get<std::string>(),
                           leaf["days_left"].get<long>() < 0 ? "expired " + day_count(-leaf["days_left"].get<long>()) + " ago"
                                                             : day_count(leaf["days_left"].get<long>()) + " left");
      }
    } else if (d.contains("first_bytes")) {
      out = "server sent: " + d["first_bytes"].get<std::string>();
    } else if (d.contains("alert")) {
      out = "alert: " + d["alert"].get<std::string>();
    }
  }
  if (s.name == "http2") {
    if (d.contains("settings")) {
      std::string list;
      for (const auto& [k, v] : d["settings"].items()) list += (list.empty() ? "" : " ") + k + "=" + v.dump();
      out = "SETTINGS " + (list.empty() ? std::string("(defaults)") : list);
    } else if (d.contains("first_bytes")) {
      out = "server sent: " + d["first_bytes"].get<std::string>();
    } else if (d.contains("tls_check")) {
      out = d["tls_check"].get<std::string>();
    }
  }
  if (s.name == "grpc") {
    out = "health " + d.value("code", std::string());
    if (d.contains("serving_status")) out += " " + d["serving_status"].get<std::string>();
    if (d.contains("reflection")) {
      const json& r = d["reflection"];
      out += ", reflection " + r.value("code", std::string());
      if (r.contains("services")) out += " (" + join_strings(r["services"]) + ")";
    }
  }
  return out;
}

}  // namespace

std::string_view status_name(StageStatus s) {
  switch (s) {
    case StageStatus::ok: return "ok";
    case StageStatus::fail: return "fail";
    case StageStatus::skip: return "skip";
  }
  return "skip";
}

Verdict verdict_of(const std::vector<StageResult>& stages, const std::string& address) {
  for (const auto& s : stages)
    if (s.status == StageStatus::fail && s.failure) return Verdict{s.failure->cls, s.failure->summary, s.failure->hint};
  return Verdict{ProbeClass::ok, fmt::format("every layer answered: {} is a gRPC server", address), ""};
}

Result<ProbeReport> run_probe(const ProbeOptions& opt) {
  TRY_VOID(check_files(opt.conn));
  auto start = Clock::now();
  StageContext c = context_of(opt);
  ProbeReport r;
  r.target = opt.conn.target.original;
  std::vector<Endpoint> endpoints;
  set_current_step("probing the dns stage");
  TRY(auto dns, dns_stage(c, endpoints));
  r.stages.push_back(std::move(dns));
  if (r.stages.back().status == StageStatus::fail) {
    r.address = opt.conn.target.host;
    for (size_t i = 1; i < std::size(k_stage_names); ++i) r.stages.push_back(skipped(k_stage_names[i]));
  } else if (!endpoints.front().name.empty()) {
    // An SRV name: the first record (in srv_order) that resolved, at its own port.
    std::vector<Endpoint> first;
    for (const auto& ep : endpoints)
      if (same_record(ep, endpoints.front())) first.push_back(ep);
    ProbeOptions instance = srv_instance_options(opt, first.front());
    TRY_VOID(run_after_dns(context_of(instance), first, true, r));
  } else {
    TRY_VOID(run_after_dns(c, endpoints, false, r));
  }
  finish(r, start);
  return r;
}

Result<std::vector<ProbeReport>> run_probe_all(const ProbeOptions& opt) {
  TRY_VOID(check_files(opt.conn));
  auto start = Clock::now();
  StageContext c = context_of(opt);
  std::vector<Endpoint> endpoints;
  TRY(auto dns, dns_stage(c, endpoints));
  std::vector<ProbeReport> reports;
  if (dns.status == StageStatus::fail) {
    ProbeReport r;
    r.target = opt.conn.target.original;
    r.address = opt.conn.target.host;
    r.stages.push_back(std::move(dns));
    for (size_t i = 1; i < std::size(k_stage_names); ++i) r.stages.push_back(skipped(k_stage_names[i]));
    finish(r, start);
    reports.push_back(std::move(r));
    return reports;
  }
  for (const auto& ep : endpoints) {
    auto instance_start = Clock::now();
    ProbeReport r;
    r.target = opt.conn.target.original;
    r.stages.push_back(dns);
    if (ep.name.empty()) {
      TRY_VOID(run_after_dns(c, {ep}, true, r));
    } else {
      ProbeOptions instance = srv_instance_options(opt, ep);
      TRY_VOID(run_after_dns(context_of(instance), {ep}, true, r));
    }
    finish(r, instance_start);
    reports.push_back(std::move(r));
  }
  return reports;
}

const ProbeReport& worst(const std::vector<ProbeReport>& reports) {
  const ProbeReport* w = &reports.front();
  for (const auto& r : reports) {
    int code = r.verdict.exit_code();
    int best = w->verdict.exit_code();
    if (code != 0 && (best == 0 || code < best)) w = &r;
  }
  return *w;
}

json to_json(const Verdict& v) {
  return json{{"ok", v.ok()},
              {"class", std::string(class_name(v.cls))},
              {"exit_code", v.exit_code()},
              {"summary", v.summary},
              {"hint", v.hint}};
}

namespace {

json stages_json(const ProbeReport& r) {
  json stages = json::array();
  for (const auto& s : r.stages) {
    json j;
    j["name"] = s.name;
    j["status"] = std::string(status_name(s.status));
    j["ms"] = std::round(to_ms(s.duration) * 1000) / 1000;
    j["detail"] = s.detail;
    if (s.failure) j["class"] = std::string(class_name(s.failure->cls));
    stages.push_back(std::move(j));
  }
  return stages;
}

}  // namespace

json to_json(const ProbeReport& r) {
  json j;
  j["target"] = r.target;
  j["address"] = r.address;
  j["stages"] = stages_json(r);
  j["verdict"] = to_json(r.verdict);
  j["ms"] = std::round(to_ms(r.total) * 1000) / 1000;
  return j;
}

json to_json_all(const std::string& target, const std::vector<ProbeReport>& reports) {
  json j;
  j["target"] = target;
  json instances = json::array();
  for (const auto& r : reports)
    instances.push_back(json{{"address", r.address}, {"stages", stages_json(r)}, {"verdict", to_json(r.verdict)}});
  j["instances"] = instances;
  j["verdict"] = to_json(worst(reports).verdict);
  return j;
}

std::string render_text(const ProbeReport& r, bool color) {
  std::string out = fmt::format("probe {}\n", r.target);
  for (const auto& s : r.stages) {
    std::string ms = s.status == StageStatus::skip ? std::string("") : fmt::format("{:.1f} ms", to_ms(s.duration));
    out += fmt::format("  {} {:<6}{:>10}  {}\n", mark(s.status, color), s.name, ms, printable_lines(stage_details(s)));
  }
  const Verdict& v = r.verdict;
  if (v.ok()) {
    out += fmt::format("{}: {} ({:.1f} ms)\n", color ? "\033[1;32mok\033[0m" : "ok", printable_line(v.summary),
                       to_ms(r.total));
  } else {
    out += fmt::format("{} (exit {}): {}\n", color ? fmt::format("\033[1;31m{}\033[0m", class_name(v.cls)) : std::string(class_name(v.cls)),
                       v.exit_code(), printable_line(v.summary));
    out += fmt::format("hint: {}\n", printable_line(v.hint));
  }
  return out;
}

std::string render_text_all(const std::string& target, const std::vector<ProbeReport>& reports, bool color) {
  std::string out;
  for (const auto& r : reports) {
    out += render_text(r, color);
    out += "\n";
  }
  out += fmt::format("{} instance{} of {}:\n", reports.size(), reports.size() == 1 ? "" : "s", target);
  size_t width = 0;
  for (const auto& r : reports) width = std::max(width, r.address.size());
  for (const auto& r : reports)
    out += fmt::format("  {:<{}}  {:<16}  {}\n", r.address, width, class_name(r.verdict.cls),
                       printable_line(r.verdict.summary));
  return out;
}

}  // namespace grpcdx::probe
