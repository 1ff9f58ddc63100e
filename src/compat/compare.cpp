// The walk of `compat`: every method of the client's services, every message and enum pair their
// requests and responses reach (each pair once, with the directions it travels), and the rules.
#include "compat/compare.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <google/protobuf/descriptor.pb.h>

#include "compat/wire_types.hpp"

namespace grpcdx::compat {

namespace {

namespace gp = google::protobuf;
using FD = gp::FieldDescriptor;

// The directions a message travels: requests are written by the client and read by the server,
// responses the other way. A message reached both ways has both bits.
constexpr unsigned k_request = 1;
constexpr unsigned k_response = 2;

// The reader and the writer of one direction, as the subjects of a sentence.
struct Direction {
  unsigned bit;
  std::string_view reader;
  std::string_view writer;
  bool client_writes;
};
constexpr Direction k_directions[] = {{k_request, "the server", "this client", true},
                                      {k_response, "this client", "the server", false}};

// The sentences of each direction a pair travels, joined; with both, each says which it is.
std::string join_directions(unsigned flow, const std::vector<std::pair<unsigned, std::string>>& parts) {
  std::string out;
  for (const auto& [bit, text] : parts) {
    if (!out.empty()) out += "; ";
    if (flow == (k_request | k_response)) out += bit == k_request ? "in requests, " : "in responses, ";
    out += text;
  }
  return out;
}

template <class T>
struct PairState {
  const T* client;
  const T* server;
  unsigned flow = 0;
  std::vector<int> methods;  // indices into Report::methods, in the order they reached the pair
};

// A pair in the graph the methods' walks follow: a message pair's edges are the pairs of its
// fields' message and enum types, found once.
struct Node {
  bool is_enum = false;
  size_t index = 0;  // into Walker::m_messages or m_enums
  bool expanded = false;
  std::vector<int> edges;
  unsigned stamp = 0;  // the walk that last visited it
};

// "field 3 (count) of pkg.Msg", naming the server's message too when it is called otherwise.
std::string field_label(const FD* field, const gp::Descriptor* client_msg, const gp::Descriptor* server_msg) {
  std::string text = fmt::format("field {} ({}) of {}", field->number(), field->name(), client_msg->full_name());
  if (client_msg->full_name() != server_msg->full_name())
    text += fmt::format(" (the server's {})", server_msg->full_name());
  return text;
}

// A field's type as its .proto says: "int32", or the full name of its message or enum.
std::string type_label(const FD* field) {
  if (field->message_type()) return field->message_type()->full_name();
  if (field->enum_type()) return field->enum_type()->full_name();
  return std::string(type_name(field->type()));
}

std::string cardinality_label(const FD* field) {
  if (field->is_repeated()) return "repeated";
  if (field->is_required()) return "required";
  return field->has_presence() ? "optional" : "singular";
}

std::string default_text(const FD* field) {
  if (!field->has_default_value()) return {};
  gp::FieldDescriptorProto proto;
  field->CopyTo(&proto);
  return proto.default_value();
}

std::string oneof_label(const FD* field) {
  const auto* oneof = field->real_containing_oneof();
  return oneof ? "oneof " + oneof->name() : "no oneof";
}

bool is_closed(const gp::EnumDescriptor* e) { return e->file()->syntax() == gp::FileDescriptor::SYNTAX_PROTO2; }

bool is_message(const FD* f) { return f->type() == FD::TYPE_MESSAGE || f->type() == FD::TYPE_GROUP; }

bool is_any_integer(FieldType t) {
  return t == FD::TYPE_INT32 || t == FD::TYPE_UINT32 || t == FD::TYPE_INT64 || t == FD::TYPE_UINT64 ||
         t == FD::TYPE_SINT32 || t == FD::TYPE_SINT64 || t == FD::TYPE_FIXED32 || t == FD::TYPE_FIXED64 ||
         t == FD::TYPE_SFIXED32 || t == FD::TYPE_SFIXED64;
}

class Walker {
 public:
  Walker(std::span<const gp::ServiceDescriptor* const> server, const CompareOptions& options) : m_options(options) {
    for (const auto* service : server) m_server.try_emplace(service->full_name(), service);
  }

  void add_service(const gp::ServiceDescriptor* client);
  Report finish();

 private:
  int node_for(const gp::Descriptor* c, const gp::Descriptor* s);
  int node_for(const gp::EnumDescriptor* c, const gp::EnumDescriptor* s);
  void expand(int id);
  // Marks every pair reachable from `root` as travelling in `flow` and reached by `method`.
  void reach(int root, unsigned flow, int method);
  void count_client(const gp::Descriptor* message);
  void compare_messages(const PairState<gp::Descriptor>& pair);
  void compare_field(const PairState<gp::Descriptor>& pair, const FD* c, const FD* s);
  void compare_field_type(const PairState<gp::Descriptor>& pair, const FD* c, const FD* s, const std::string& label);
  void compare_field_json(const PairState<gp::Descriptor>& pair, const FD* c, const FD* s, const std::string& label);
  void field_missing(const PairState<gp::Descriptor>& pair, const FD* field, bool on_client);
  void compare_enums(const PairState<gp::EnumDescriptor>& pair);
  void add(Severity severity, std::string rule, std::string symbol, std::string client, std::string server,
           std::string message, const std::vector<int>& methods);

  std::map<std::string, const gp::ServiceDescriptor*, std::less<>> m_server;
  CompareOptions m_options;
  Report m_report;
  std::vector<PairState<gp::Descriptor>> m_messages;
  std::vector<PairState<gp::EnumDescriptor>> m_enums;
  std::map<std::pair<const void*, const void*>, int> m_node_index;
  std::vector<Node> m_nodes;
  unsigned m_stamp = 0;
  std::set<const gp::Descriptor*> m_client_messages;
  std::set<const gp::EnumDescriptor*> m_client_enums;
};

void Walker::add(Severity severity, std::string rule, std::string symbol, std::string client, std::string server,
                 std::string message, const std::vector<int>& methods) {
  std::vector<std::string> names;
  names.reserve(methods.size());
  for (int i : methods) names.push_back(m_report.methods[i]);
  m_report.findings.push_back(Finding{severity, std::move(rule), std::move(symbol), std::move(client),
                                      std::move(server), std::move(message), std::move(names)});
}

void Walker::count_client(const gp::Descriptor* message) {
  if (!m_client_messages.insert(message).second) return;
  for (int i = 0; i < message->field_count(); ++i) {
    const FD* f = message->field(i);
    if (f->message_type()) count_client(f->message_type());
    else if (f->enum_type()) m_client_enums.insert(f->enum_type());
  }
}

int Walker::node_for(const gp::Descriptor* c, const gp::Descriptor* s) {
  auto [it, fresh] = m_node_index.try_emplace({c, s}, static_cast<int>(m_nodes.size()));
  if (fresh) {
    m_nodes.push_back(Node{false, m_messages.size(), false, {}, 0});
    m_messages.push_back(PairState<gp::Descriptor>{c, s, 0, {}});
  }
  return it->second;
}

int Walker::node_for(const gp::EnumDescriptor* c, const gp::EnumDescriptor* s) {
  auto [it, fresh] = m_node_index.try_emplace({c, s}, static_cast<int>(m_nodes.size()));
  if (fresh) {
    m_nodes.push_back(Node{true, m_enums.size(), false, {}, 0});
    m_enums.push_back(PairState<gp::EnumDescriptor>{c, s, 0, {}});
  }
  return it->second;
}

void Walker::expand(int id) {
  if (m_nodes[id].is_enum || m_nodes[id].expanded) return;
  m_nodes[id].expanded = true;
  const gp::Descriptor* c = m_messages[m_nodes[id].index].client;
  const gp::Descriptor* s = m_messages[m_nodes[id].index].server;
  std::vector<int> edges;
  for (int i = 0; i < c->field_count(); ++i) {
    const FD* cf = c->field(i);
    const FD* sf = s->FindFieldByNumber(cf->number());
    if (!sf) continue;
    if (is_message(cf) && cf->type() == sf->type()) edges.push_back(node_for(cf->message_type(), sf->message_type()));
    else if (cf->enum_type() && sf->enum_type()) edges.push_back(node_for(cf->enum_type(), sf->enum_type()));
  }
  m_nodes[id].edges = std::move(edges);
}

void Walker::reach(int root, unsigned flow, int method) {
  const unsigned stamp = ++m_stamp;
  std::vector<int> todo{root};
  while (!todo.empty()) {
    const int id = todo.back();
    todo.pop_back();
    if (m_nodes[id].stamp == stamp) continue;
    m_nodes[id].stamp = stamp;
    auto mark = [&](auto& state) {
      state.flow |= flow;
      // A walk visits a pair once, and walks go method by method: a method is never listed twice.
      if (state.methods.empty() || state.methods.back() != method) state.methods.push_back(method);
    };
    if (m_nodes[id].is_enum) {
      mark(m_enums[m_nodes[id].index]);
      continue;
    }
    mark(m_messages[m_nodes[id].index]);
    expand(id);
    todo.insert(todo.end(), m_nodes[id].edges.begin(), m_nodes[id].edges.end());
  }
}

void Walker::add_service(const gp::ServiceDescriptor* client) {
  ++m_report.checked.services;
  const auto found = m_server.find(client->full_name());
  const gp::ServiceDescriptor* server = found == m_server.end() ? nullptr : found->second;
  std::vector<int> indices;
  for (int i = 0; i < client->method_count(); ++i) {
    const gp::MethodDescriptor* cm = client->method(i);
    indices.push_back(static_cast<int>(m_report.methods.size()));
    m_report.methods.push_back(fmt::format("{}/{}", client->full_name(), cm->name()));
    ++m_report.checked.methods;
    count_client(cm->input_type());
    count_client(cm->output_type());
  }
  if (!server) {
    add(Severity::error, "SERVICE_NO_DELETE", client->full_name(), "service", "absent",
        fmt::format("the server has no service {}: every call to its {} method{} fails with UNIMPLEMENTED",
                    client->full_name(), client->method_count(), client->method_count() == 1 ? "" : "s"),
        indices);
    return;
  }
  for (int i = 0; i < client->method_count(); ++i) {
    const gp::MethodDescriptor* cm = client->method(i);
    const std::vector<int> method{indices[i]};
    const std::string symbol = cm->full_name();
    const gp::MethodDescriptor* sm = server->FindMethodByName(cm->name());
    if (!sm) {
      add(Severity::error, "RPC_NO_DELETE", symbol, "method", "absent",
          fmt::format("the server's {} has no method {}: calls to it fail with UNIMPLEMENTED", server->full_name(),
                      cm->name()),
          method);
      continue;
    }
    auto kind = [](bool streaming) { return std::string(streaming ? "streaming" : "unary"); };
    if (cm->client_streaming() != sm->client_streaming()) {
      if (cm->client_streaming())
        add(Severity::error, "RPC_SAME_CLIENT_STREAMING", symbol, kind(true), kind(false),
            fmt::format("this client streams requests to {}; the server's {} takes one request: a call that sends "
                        "more than one fails",
                        cm->name(), sm->name()),
            method);
      else
        add(Severity::warning, "RPC_SAME_CLIENT_STREAMING", symbol, kind(false), kind(true),
            fmt::format("this client sends one request to {}; the server's {} takes a stream of requests: it gets "
                        "a stream of one",
                        cm->name(), sm->name()),
            method);
    }
    if (cm->server_streaming() != sm->server_streaming()) {
      if (sm->server_streaming())
        add(Severity::error, "RPC_SAME_SERVER_STREAMING", symbol, kind(false), kind(true),
            fmt::format("the server's {} streams responses; this client expects one: a call that gets more than "
                        "one fails",
                        sm->name()),
            method);
      else
        add(Severity::warning, "RPC_SAME_SERVER_STREAMING", symbol, kind(true), kind(false),
            fmt::format("this client reads a stream of responses from {}; the server's {} returns one: this client "
                        "gets a stream of one",
                        cm->name(), sm->name()),
            method);
    }
    for (auto [rule, c_type, s_type, what, verb] :
         {std::tuple{"RPC_SAME_REQUEST_TYPE", cm->input_type(), sm->input_type(), "request", "sends"},
          std::tuple{"RPC_SAME_RESPONSE_TYPE", cm->output_type(), sm->output_type(), "response", "expects"}}) {
      if (c_type->full_name() == s_type->full_name()) continue;
      add(Severity::warning, rule, symbol, c_type->full_name(), s_type->full_name(),
          fmt::format("this client {} {} as the {} of {} and the server has {}: type names do not travel on the "
                      "wire, so the two are compared field by field (buf breaking reports any change of {} type)",
                      verb, c_type->full_name(), what, cm->name(), s_type->full_name(), what),
          method);
    }
    reach(node_for(cm->input_type(), sm->input_type()), k_request, indices[i]);
    reach(node_for(cm->output_type(), sm->output_type()), k_response, indices[i]);
  }
}

void Walker::field_missing(const PairState<gp::Descriptor>& pair, const FD* field, bool on_client) {
  const gp::Descriptor* lacking = on_client ? pair.server : pair.client;
  const std::string label = field_label(field, pair.client, pair.server);
  const std::string_view owner = on_client ? "the server's" : "this client's";
  std::vector<std::pair<unsigned, std::string>> parts;
  for (const auto& d : k_directions) {
    if (!(pair.flow & d.bit)) continue;
    const bool has_writer = d.client_writes == on_client;  // the side that has the field writes it
    if (has_writer)
      parts.emplace_back(d.bit, fmt::format("{} sends {}; {} {} has no field {} and drops it", d.writer, label, owner,
                                            lacking->full_name(), field->number()));
    else
      parts.emplace_back(d.bit, fmt::format("{} reads {}; {} {} has no field {}, so {} always sees it unset", d.reader,
                                            label, owner, lacking->full_name(), field->number(), d.reader));
  }
  const std::string here = fmt::format("{} {}", cardinality_label(field), type_label(field));
  add(Severity::warning, "FIELD_NO_DELETE", field->full_name(), on_client ? here : "absent",
      on_client ? "absent" : here, join_directions(pair.flow, parts), pair.methods);
  if (!field->is_required()) return;
  // The side that has the field requires it: it fails to parse what the other side writes.
  const bool reader_requires = (pair.flow & (on_client ? k_response : k_request)) != 0;
  const std::string_view side = on_client ? "this client" : "the server";
  add(reader_requires ? Severity::error : Severity::warning, "MESSAGE_SAME_REQUIRED_FIELDS", field->full_name(),
      on_client ? "required" : "absent", on_client ? "absent" : "required",
      reader_requires
          ? fmt::format("{} requires {}; the other side does not have it and never sends it: {} fails to parse "
                        "every {} it gets",
                        side, label, side, (on_client ? pair.client : pair.server)->full_name())
          : fmt::format("{} requires {}, which the other side does not have: it only ever writes the field, so "
                        "calls work (buf breaking reports any change to required fields)",
                        side, label),
      pair.methods);
}

void Walker::compare_field_type(const PairState<gp::Descriptor>& pair, const FD* c, const FD* s,
                                const std::string& label) {
  if (c->type() == s->type() && (is_message(c) || c->type() == FD::TYPE_ENUM)) {
    const std::string c_name = type_label(c), s_name = type_label(s);
    if (c_name == s_name) return;
    add(Severity::warning, "FIELD_WIRE_COMPATIBLE_TYPE", c->full_name(), c_name, s_name,
        fmt::format("{} is a {} on this client and a {} on the server: type names do not travel on the wire, so "
                    "the two are compared {} (buf breaking reports any change of type)",
                    label, c_name, s_name, is_message(c) ? "field by field" : "value by value"),
        pair.methods);
    return;
  }
  if (c->type() == s->type()) return;
  Severity severity = Severity::warning;
  bool any = false;
  std::vector<std::pair<unsigned, std::string>> parts;
  for (const auto& d : k_directions) {
    if (!(pair.flow & d.bit)) continue;
    const FD* writer = d.client_writes ? c : s;
    const FD* reader = d.client_writes ? s : c;
    const TypeVerdict verdict = wire_verdict(writer->type(), reader->type());
    if (verdict.match == TypeMatch::same || verdict.match == TypeMatch::compatible) continue;
    any = true;
    if (verdict.match == TypeMatch::incompatible) severity = Severity::error;
    parts.emplace_back(d.bit, fmt::format("{} reads {} as {}; {} sends {}: {} {}", d.reader, label,
                                          type_label(reader), d.writer, type_label(writer), d.reader, verdict.effect));
  }
  if (!any) return;
  add(severity, "FIELD_WIRE_COMPATIBLE_TYPE", c->full_name(), type_label(c), type_label(s),
      join_directions(pair.flow, parts), pair.methods);
}

void Walker::compare_field_json(const PairState<gp::Descriptor>& pair, const FD* c, const FD* s,
                                const std::string& label) {
  if (c->name() != s->name())
    add(Severity::warning, "FIELD_SAME_NAME", c->full_name(), c->name(), s->name(),
        fmt::format("{} is named {} on this client and {} on the server: JSON written with the .proto names "
                    "(preserving_proto_field_name, --proto-names) is not understood by the other side",
                    label, c->name(), s->name()),
        pair.methods);
  if (c->json_name() != s->json_name())
    add(Severity::error, "FIELD_SAME_JSON_NAME", c->full_name(), c->json_name(), s->json_name(),
        fmt::format("{} is \"{}\" in this client's JSON and \"{}\" in the server's: a JSON reader rejects the "
                    "other side's name as an unknown field (or, told to ignore unknown fields, drops it)",
                    label, c->json_name(), s->json_name()),
        pair.methods);
  const bool same_kind = c->type() == s->type();
  const bool renamed = same_kind && (is_message(c) || c->type() == FD::TYPE_ENUM) && type_label(c) != type_label(s);
  if (same_kind && !renamed) return;
  const std::string_view c_form = json_form(c->type()), s_form = json_form(s->type());
  Severity severity = Severity::error;
  std::string why;
  if (renamed) {
    severity = Severity::warning;
    why = "the same JSON form under another type name: compared by their contents";
  } else if (is_any_integer(c->type()) && is_any_integer(s->type()) && c_form != s_form) {
    severity = Severity::warning;
    why = "protobuf's JSON parsers accept integers quoted or not, but a 64-bit value does not fit a 32-bit field";
  } else if (c_form == s_form && wire_verdict(c->type(), s->type()).match != TypeMatch::incompatible) {
    return;
  } else {
    why = "a JSON reader rejects the other side's value";
  }
  add(severity, "FIELD_WIRE_JSON_COMPATIBLE_TYPE", c->full_name(), type_label(c), type_label(s),
      fmt::format("in JSON, {} is a {} ({}) on this client and a {} ({}) on the server: {}", label, c_form,
                  type_label(c), s_form, type_label(s), why),
      pair.methods);
}

void Walker::compare_field(const PairState<gp::Descriptor>& pair, const FD* c, const FD* s) {
  const std::string label = field_label(c, pair.client, pair.server);
  compare_field_type(pair, c, s, label);
  if (c->is_repeated() != s->is_repeated()) {
    Severity severity = Severity::warning;
    std::vector<std::pair<unsigned, std::string>> parts;
    for (const auto& d : k_directions) {
      if (!(pair.flow & d.bit)) continue;
      const FD* writer = d.client_writes ? c : s;
      if (writer->is_repeated()) {
        severity = Severity::error;
        parts.emplace_back(d.bit, fmt::format("{} takes {} as one value; {} sends a list: {} keeps only the last "
                                              "element (a message merges them; packed numbers are dropped)",
                                              d.reader, label, d.writer, d.reader));
      } else {
        parts.emplace_back(d.bit, fmt::format("{} takes {} as a list; {} sends one value: {} reads a list of one",
                                              d.reader, label, d.writer, d.reader));
      }
    }
    add(severity, "FIELD_SAME_CARDINALITY", c->full_name(), cardinality_label(c), cardinality_label(s),
        join_directions(pair.flow, parts), pair.methods);
  }
  if (c->is_required() != s->is_required()) {
    Severity severity = Severity::warning;
    std::vector<std::pair<unsigned, std::string>> parts;
    for (const auto& d : k_directions) {
      if (!(pair.flow & d.bit)) continue;
      const FD* reader = d.client_writes ? s : c;
      if (reader->is_required()) {
        severity = Severity::error;
        parts.emplace_back(d.bit, fmt::format("{} requires {}; {} has it as {} and may leave it unset: {} then "
                                              "fails to parse the whole message",
                                              d.reader, label, d.writer, cardinality_label(d.client_writes ? c : s),
                                              d.reader));
      } else {
        parts.emplace_back(d.bit, fmt::format("{} requires {} and always sends it; {} has it as {}: calls work (buf "
                                              "breaking reports any change to required fields)",
                                              d.writer, label, d.reader, cardinality_label(reader)));
      }
    }
    add(severity, "MESSAGE_SAME_REQUIRED_FIELDS", c->full_name(), cardinality_label(c), cardinality_label(s),
        join_directions(pair.flow, parts), pair.methods);
  }
  const auto* c_oneof = c->real_containing_oneof();
  const auto* s_oneof = s->real_containing_oneof();
  if ((c_oneof == nullptr) != (s_oneof == nullptr) || (c_oneof && c_oneof->name() != s_oneof->name()))
    add(Severity::warning, "FIELD_SAME_ONEOF", c->full_name(), oneof_label(c), oneof_label(s),
        fmt::format("{} is in {} on this client and in {} on the server: when several fields of a reader's oneof "
                    "arrive, it keeps only the last and drops the others",
                    label, oneof_label(c), oneof_label(s)),
        pair.methods);
  if (c->has_default_value() || s->has_default_value()) {
    const std::string c_default = default_text(c), s_default = default_text(s);
    if (c_default != s_default) {
      auto shown = [](const std::string& v) { return v.empty() ? std::string("no default") : "default " + v; };
      add(Severity::error, "FIELD_SAME_DEFAULT", c->full_name(), shown(c_default), shown(s_default),
          fmt::format("{} has {} on this client and {} on the server: when it is not set, the two sides read "
                      "different values",
                      label, shown(c_default), shown(s_default)),
          pair.methods);
    }
  }
  if (m_options.json) compare_field_json(pair, c, s, label);
}

void Walker::compare_messages(const PairState<gp::Descriptor>& pair) {
  for (int i = 0; i < pair.client->field_count(); ++i) {
    const FD* c = pair.client->field(i);
    if (const FD* s = pair.server->FindFieldByNumber(c->number())) compare_field(pair, c, s);
    else field_missing(pair, c, true);
  }
  for (int i = 0; i < pair.server->field_count(); ++i) {
    const FD* s = pair.server->field(i);
    if (!pair.client->FindFieldByNumber(s->number())) field_missing(pair, s, false);
  }
}

void Walker::compare_enums(const PairState<gp::EnumDescriptor>& pair) {
  // One side has value `number` (`name`) and the other's enum lacks it.
  auto missing = [&](const gp::EnumValueDescriptor* value, bool on_client) {
    const gp::EnumDescriptor* lacking = on_client ? pair.server : pair.client;
    const std::string_view owner = on_client ? "the server's" : "this client's";
    Severity severity = Severity::warning;
    std::vector<std::pair<unsigned, std::string>> parts;
    for (const auto& d : k_directions) {
      if (!(pair.flow & d.bit)) continue;
      const bool has_writer = d.client_writes == on_client;
      if (!has_writer) {
        parts.emplace_back(d.bit, fmt::format("{} {} has no value {} ({}), so {} never sends it", owner,
                                              lacking->full_name(), value->number(), value->name(), d.writer));
      } else if (is_closed(lacking)) {
        severity = Severity::error;
        parts.emplace_back(d.bit, fmt::format("{} may send {} ({}); {} {} has no value {} and, a closed proto2 enum, "
                                              "drops it: {} sees the field unset",
                                              d.writer, value->name(), value->number(), owner, lacking->full_name(),
                                              value->number(), d.reader));
      } else {
        parts.emplace_back(d.bit, fmt::format("{} may send {} ({}); {} {} has no value {}: {} keeps the number "
                                              "but has no name for it",
                                              d.writer, value->name(), value->number(), owner, lacking->full_name(),
                                              value->number(), d.reader));
      }
    }
    const std::string symbol = fmt::format("{}.{}", (on_client ? pair.client : pair.server)->full_name(), value->name());
    const std::string here = fmt::format("{} = {}", value->name(), value->number());
    add(severity, "ENUM_VALUE_NO_DELETE", symbol, on_client ? here : "absent", on_client ? "absent" : here,
        join_directions(pair.flow, parts), pair.methods);
  };
  std::set<int> seen;
  for (int i = 0; i < pair.client->value_count(); ++i) {
    const gp::EnumValueDescriptor* c = pair.client->value(i);
    if (!seen.insert(c->number()).second) continue;  // an alias
    const gp::EnumValueDescriptor* s = pair.server->FindValueByNumber(c->number());
    if (!s) {
      missing(c, true);
    } else if (m_options.json && c->name() != s->name()) {
      add(Severity::error, "ENUM_VALUE_SAME_NAME", fmt::format("{}.{}", pair.client->full_name(), c->name()), c->name(),
          s->name(),
          fmt::format("value {} of {} is {} on this client and {} on the server: JSON carries enum values by name, "
                      "and a reader rejects a name it does not know",
                      c->number(), pair.client->full_name(), c->name(), s->name()),
          pair.methods);
    }
  }
  seen.clear();
  for (int i = 0; i < pair.server->value_count(); ++i) {
    const gp::EnumValueDescriptor* s = pair.server->value(i);
    if (!seen.insert(s->number()).second) continue;
    if (!pair.client->FindValueByNumber(s->number())) missing(s, false);
  }
}

Report Walker::finish() {
  for (const auto& pair : m_messages) compare_messages(pair);
  for (const auto& pair : m_enums) compare_enums(pair);
  m_report.checked.messages = static_cast<int>(m_client_messages.size());
  m_report.checked.enums = static_cast<int>(m_client_enums.size());
  std::map<std::string_view, size_t> order;
  for (size_t i = 0; i < m_report.methods.size(); ++i) order.try_emplace(m_report.methods[i], i);
  auto rank = [&](const Finding& f) { return f.methods.empty() ? 0 : order[f.methods.front()]; };
  std::stable_sort(m_report.findings.begin(), m_report.findings.end(),
                   [&](const Finding& a, const Finding& b) { return rank(a) < rank(b); });
  return std::move(m_report);
}

}  // namespace

std::string_view severity_name(Severity severity) { return severity == Severity::error ? "error" : "warning"; }

int Report::count(Severity severity) const {
  return static_cast<int>(
      std::count_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.severity == severity; }));
}

bool Report::compatible(bool fail_on_warning) const {
  return count(Severity::error) == 0 && (!fail_on_warning || count(Severity::warning) == 0);
}

Report compare(std::span<const gp::ServiceDescriptor* const> client_services,
               std::span<const gp::ServiceDescriptor* const> server_services, const CompareOptions& options) {
  Walker walker(server_services, options);
  for (const auto* service : client_services) walker.add_service(service);
  return walker.finish();
}

}  // namespace grpcdx::compat
