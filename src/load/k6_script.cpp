// Writing the k6 script for `bench --emit k6`.
#include "load/k6_script.hpp"

#include <cmath>

#include <fmt/format.h>

namespace grpcdx::load {

std::string js_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char ch : text) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (ch < 0x20) out += fmt::format("\\u{:04x}", ch);
        else out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

namespace {

std::string js_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + js_string(items[i]);
  return out + "]";
}

std::string k6_duration(Duration d) { return format_duration(d); }

}  // namespace

std::string k6_script(const K6Plan& p) {
  std::string s;
  s += fmt::format("// k6 gRPC script written by `grpcdx bench --emit k6` for {} on {}.\n", p.method, p.target);
  s += "// Run it with `k6 run bench.js` (k6 v0.49 or newer: it uses k6/net/grpc's Stream for\n"
       "// streaming methods), or spread it over machines with k6's distributed execution.\n";
  if (!p.unsupported.empty()) {
    s += "//\n// No k6 equivalent; these grpcdx options are not reproduced:\n";
    for (const auto& u : p.unsupported) s += "//   " + u + "\n";
  }
  s += "import grpc from 'k6/net/grpc';\nimport exec from 'k6/execution';\nimport { check } from 'k6';\n\n";
  s += "const client = new grpc.Client();\n";
  const bool reflect = p.proto_files.empty() && p.protosets.empty();
  for (const auto& protoset : p.protosets) s += fmt::format("client.loadProtoset({});\n", js_string(protoset));
  if (!p.proto_files.empty()) {
    s += fmt::format("client.load({}", js_list(p.import_paths));
    for (const auto& file : p.proto_files) s += ", " + js_string(file);
    s += ");\n";
  }
  if (!p.cacert.empty()) s += fmt::format("const caCert = open({});\n", js_string(p.cacert));
  if (!p.cert.empty()) {
    s += fmt::format("const clientCert = open({});\n", js_string(p.cert));
    s += fmt::format("const clientKey = open({});\n", js_string(p.key));
  }
  std::vector<std::string> messages = p.messages;
  if (messages.empty()) messages.emplace_back("{}");
  s += "\n// The request messages (JSON text, so templates can stand anywhere), sent round-robin.\n";
  s += "const templates = [\n";
  for (const auto& m : messages) s += "  " + js_string(m) + ",\n";
  s += "];\n\n";

  // Scenario: the executor that makes the same load.
  s += "export const options = {\n  scenarios: {\n    bench: {\n";
  if (p.rps > 0) {
    Duration d = p.duration;
    if (d <= Duration::zero() && p.total_calls > 0) {
      // k6's arrival-rate executors have no call count: the duration makes -n calls at this rate.
      d = std::chrono::seconds(static_cast<int64_t>(std::ceil(static_cast<double>(p.total_calls) / p.rps)));
    }
    s += "      executor: 'constant-arrival-rate',\n";
    s += fmt::format("      rate: {},\n      timeUnit: '1s',\n", p.rps);
    s += fmt::format("      duration: '{}',\n", k6_duration(d));
    s += fmt::format("      preAllocatedVUs: {},\n      maxVUs: {},\n", p.concurrency, p.concurrency);
  } else if (p.total_calls > 0) {
    s += "      executor: 'shared-iterations',\n";
    s += fmt::format("      vus: {},\n      iterations: {},\n", p.concurrency, p.total_calls);
    if (p.duration > Duration::zero()) s += fmt::format("      maxDuration: '{}',\n", k6_duration(p.duration));
  } else {
    s += "      executor: 'constant-vus',\n";
    s += fmt::format("      vus: {},\n      duration: '{}',\n", p.concurrency, k6_duration(p.duration));
  }
  s += "    },\n  },\n";
  if (p.max_error_rate || p.max_p99) {
    s += "  thresholds: {\n";
    if (p.max_error_rate)
      s += fmt::format("    checks: ['rate>={}'],  // --max-error-rate {}\n", 1.0 - *p.max_error_rate / 100.0,
                       *p.max_error_rate);
    if (p.max_p99)
      s += fmt::format("    grpc_req_duration: ['p(99)<={}'],  // --max-p99 {}\n", to_ms(*p.max_p99),
                       format_duration(*p.max_p99));
    s += "  },\n";
  }
  if (p.insecure) s += "  insecureSkipTLSVerify: true,\n";
  s += "};\n\n";

  s += "function uuidv4() {\n"
       "  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {\n"
       "    const r = (Math.random() * 16) | 0;\n"
       "    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);\n"
       "  });\n}\n\n";
  s += "function render(text, n) {\n"
       "  return JSON.parse(text\n"
       "    .split('{{.RequestNumber}}').join(String(n))\n"
       "    .split('{{.WorkerID}}').join(String(exec.vu.idInTest - 1))\n"
       "    .split('{{.UUID}}').join(uuidv4())\n"
       "    .split('{{.Timestamp}}').join(new Date().toISOString()));\n}\n\n";

  // Connection and call parameters.
  std::string connect = fmt::format("plaintext: {}, reflect: {}", p.plaintext ? "true" : "false", reflect ? "true" : "false");
  if (p.connect_timeout) connect += fmt::format(", timeout: '{}'", format_duration(*p.connect_timeout));
  if (p.max_msg_size) connect += fmt::format(", maxReceiveSize: {}", *p.max_msg_size);
  if (!p.cacert.empty() || !p.cert.empty()) {
    connect += ", tls: {";
    if (!p.cacert.empty()) connect += " cacerts: [caCert],";
    if (!p.cert.empty()) connect += " cert: clientCert, key: clientKey,";
    connect += " }";
  }
  std::string params = "metadata: {";
  for (size_t i = 0; i < p.metadata.size(); ++i)
    params += fmt::format("{}{}: {}", i ? ", " : " ", js_string(p.metadata[i].key), js_string(p.metadata[i].value));
  params += p.metadata.empty() ? "}" : " }";
  if (p.timeout) params += fmt::format(", timeout: '{}'", format_duration(*p.timeout));

  s += "export default function () {\n";
  s += "  if (exec.vu.iterationInScenario === 0) {\n";
  s += fmt::format("    client.connect({}, {{ {} }});\n", js_string(p.target), connect);
  s += "  }\n";
  s += "  const n = exec.scenario.iterationInTest;\n";
  s += fmt::format("  const params = {{ {} }};\n", params);
  if (p.kind == CallKind::unary) {
    s += fmt::format("  const response = client.invoke({}, render(templates[n % templates.length], n), params);\n",
                     js_string(p.method));
    s += "  check(response, { 'status is OK': (r) => r && r.status === grpc.StatusOK });\n";
  } else {
    s += fmt::format("  const stream = new grpc.Stream(client, {}, params);\n", js_string(p.method));
    s += "  stream.on('error', () => check(null, { 'status is OK': () => false }));\n";
    s += "  stream.on('end', () => check(null, { 'status is OK': () => true }));\n";
    if (p.kind == CallKind::server_streaming)
      s += "  stream.write(render(templates[n % templates.length], n));\n";
    else
      s += "  for (const t of templates) stream.write(render(t, n));\n";
    s += "  stream.end();\n";
  }
  s += "}\n";
  return s;
}

}  // namespace grpcdx::load
