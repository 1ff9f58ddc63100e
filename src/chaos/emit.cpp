// Istio and Envoy renderings of the L7 faults, as YAML text.
#include "chaos/emit.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "rpc/status_codes.hpp"

namespace grpcdx::chaos {

namespace {

std::string quote(const std::string& s) { return nlohmann::json(s).dump(); }

bool has_wildcard(const std::string& glob) { return glob.find_first_of("*?") != std::string::npos; }

std::string glob_to_regex(const std::string& glob) {
  std::string out;
  for (char c : glob) {
    if (c == '*')
      out += ".*";
    else if (c == '?')
      out += '.';
    else if (std::string_view(".+()[]{}|^$\\").find(c) != std::string_view::npos)
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out;
}

// {"exact"|"prefix"|"regex"|"present", value} for a header value glob.
std::pair<std::string, std::string> value_match(const std::string& glob) {
  if (glob == "*") return {"present", ""};
  if (!has_wildcard(glob)) return {"exact", glob};
  return {"regex", glob_to_regex(glob)};
}

std::string seconds(Duration d) {
  double s = std::chrono::duration<double>(d).count();
  return fmt::format("{:.3f}s", s);
}

bool is_mesh_kind(FaultKind k) { return k == FaultKind::delay || k == FaultKind::abort; }

void common_notes(const FaultSpec& f, std::vector<std::string>& notes) {
  if (f.kind == FaultKind::delay && f.jitter.count() > 0)
    notes.push_back(fmt::format("'{}': meshes have fixed delays only; the jitter is left out", f.text));
  if (f.retry_after)
    notes.push_back(fmt::format("'{}': retry_after has no mesh equivalent; the abort carries no RetryInfo", f.text));
  if (f.limit)
    notes.push_back(fmt::format("'{}': limit={} has no mesh equivalent; the fault is not capped", f.text, *f.limit));
}

std::string envoy_percentage(double pct, const std::string& indent) {
  if (pct == std::floor(pct))
    return fmt::format("{0}percentage:\n{0}  numerator: {1}\n{0}  denominator: HUNDRED\n", indent, static_cast<int>(pct));
  return fmt::format("{0}percentage:\n{0}  numerator: {1}\n{0}  denominator: MILLION\n", indent,
                     static_cast<long long>(std::llround(pct * 10000)));
}

std::string istio(const EmitOptions& o, std::vector<std::string>& notes) {
  std::string host = o.host.empty() ? "SERVICE_HOST" : o.host;
  std::string out = fmt::format(
      "# Istio VirtualService with the delay/abort faults of grpcdx chaos (one route per fault;\n"
      "# Istio applies the first route that matches, so faults on the same calls do not combine).\n"
      "apiVersion: networking.istio.io/v1beta1\n"
      "kind: VirtualService\n"
      "metadata:\n"
      "  name: grpcdx-chaos\n"
      "spec:\n"
      "  hosts:\n"
      "  - {0}\n"
      "  http:\n",
      quote(host));
  int n = 0;
  for (const auto& f : o.faults) {
    if (!is_mesh_kind(f.kind)) continue;
    common_notes(f, notes);
    out += fmt::format("  - name: {}\n", quote(fmt::format("grpcdx-fault-{}", n++)));
    if (!f.method_glob.empty() || !f.header_key.empty()) {
      out += "    match:\n";
      bool first = true;
      auto item = [&] {
        std::string prefix = first ? "    - " : "      ";
        first = false;
        return prefix;
      };
      if (!f.method_glob.empty()) {
        auto [how, value] = path_match(f.method_glob);
        out += fmt::format("{}uri:\n        {}: {}\n", item(), how, quote(value));
      }
      if (!f.header_key.empty()) {
        auto [how, value] = value_match(f.header_value_glob);
        if (how == "present") {
          how = "regex";
          value = ".*";
        }
        out += fmt::format("{}headers:\n        {}:\n          {}: {}\n", item(), quote(f.header_key), how,
                           quote(value));
      }
    }
    out += "    fault:\n";
    if (f.kind == FaultKind::delay)
      out += fmt::format("      delay:\n        fixedDelay: {}\n        percentage:\n          value: {:g}\n",
                         seconds(f.delay), f.pct);
    else
      out += fmt::format("      abort:\n        grpcStatus: {}\n        percentage:\n          value: {:g}\n",
                         quote(rpc::status_name(f.code)), f.pct);
    out += fmt::format("    route:\n    - destination:\n        host: {}\n", quote(host));
  }
  out += fmt::format("  - name: \"default\"\n    route:\n    - destination:\n        host: {}\n", quote(host));
  if (o.host.empty()) notes.push_back("replace SERVICE_HOST with the service's host (or give --target)");
  if (o.header_faults) notes.push_back("--header-faults: Istio has no header-driven faults (Envoy does)");
  if (o.max_active) notes.push_back("--max-active: Istio has no cap on active faults (Envoy's max_active_faults)");
  return out;
}

std::string envoy_filter_head() {
  return "- name: envoy.filters.http.fault\n"
         "  typed_config:\n"
         "    \"@type\": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault\n";
}

std::string envoy(const EmitOptions& o, std::vector<std::string>& notes) {
  std::string out =
      "# Envoy HTTP fault filters with the delay/abort faults of grpcdx chaos: add them to the\n"
      "# HTTP connection manager's http_filters, before envoy.filters.http.router.\n"
      "http_filters:\n";
  std::string max_active = o.max_active ? fmt::format("    max_active_faults: {}\n", *o.max_active) : "";
  for (const auto& f : o.faults) {
    if (!is_mesh_kind(f.kind)) continue;
    common_notes(f, notes);
    out += envoy_filter_head();
    if (f.kind == FaultKind::delay)
      out += fmt::format("    delay:\n      fixed_delay: {}\n", seconds(f.delay)) + envoy_percentage(f.pct, "      ");
    else
      out += fmt::format("    abort:\n      grpc_status: {}\n", f.code) + envoy_percentage(f.pct, "      ");
    if (!f.method_glob.empty() || !f.header_key.empty()) {
      out += "    headers:\n";
      if (!f.method_glob.empty()) {
        auto [how, value] = path_match(f.method_glob);
        if (how == "regex")
          out += fmt::format("    - name: \":path\"\n      string_match:\n        safe_regex:\n          regex: {}\n",
                             quote(value));
        else
          out += fmt::format("    - name: \":path\"\n      string_match:\n        {}: {}\n", how, quote(value));
      }
      if (!f.header_key.empty()) {
        auto [how, value] = value_match(f.header_value_glob);
        if (how == "present")
          out += fmt::format("    - name: {}\n      present_match: true\n", quote(f.header_key));
        else if (how == "regex")
          out += fmt::format("    - name: {}\n      string_match:\n        safe_regex:\n          regex: {}\n",
                             quote(f.header_key), quote(value));
        else
          out += fmt::format("    - name: {}\n      string_match:\n        exact: {}\n", quote(f.header_key),
                             quote(value));
      }
    }
    out += max_active;
  }
  if (o.header_faults) {
    out += envoy_filter_head();
    out += "    delay:\n      header_delay: {}\n" + envoy_percentage(100, "      ");
    out += "    abort:\n      header_abort: {}\n" + envoy_percentage(100, "      ");
    out += max_active;
    notes.push_back(
        "--header-faults: Envoy's header faults use x-envoy-fault-delay-request (milliseconds) and "
        "x-envoy-fault-abort-grpc-request (a code number) instead of x-grpcdx-delay and x-grpcdx-abort");
  }
  return out;
}

}  // namespace

std::pair<std::string, std::string> path_match(const std::string& method_glob) {
  std::string path = "/" + method_glob;
  if (!has_wildcard(path)) return {"exact", path};
  size_t first = path.find_first_of("*?");
  if (first == path.size() - 1 && path.back() == '*') return {"prefix", path.substr(0, first)};
  return {"regex", glob_to_regex(path)};
}

Result<Emitted> emit_mesh_config(MeshFormat format, const EmitOptions& options) {
  bool any = options.header_faults && format == MeshFormat::envoy;
  for (const auto& f : options.faults) any = any || is_mesh_kind(f.kind);
  if (!any)
    return usage_error("nothing to emit: only delay and abort faults have a mesh equivalent",
                       "give --fault delay=... or --fault abort=...");
  Emitted e;
  e.config = format == MeshFormat::istio ? istio(options, e.notes) : envoy(options, e.notes);
  for (const auto& f : options.faults) {
    if (is_mesh_kind(f.kind)) continue;
    const char* why = "";
    switch (f.kind) {
      case FaultKind::cancel: why = "meshes cannot cancel a call part-way"; break;
      case FaultKind::reset: why = "meshes cannot reset a stream after N messages"; break;
      case FaultKind::stall: why = "meshes cannot stop a stream part-way and keep it open"; break;
      case FaultKind::drop: why = "meshes always answer (a long delay comes closest)"; break;
      default: break;
    }
    e.notes.push_back(fmt::format("'{}' has no mesh equivalent: {}; left out", f.text, why));
  }
  return e;
}

}  // namespace grpcdx::chaos
