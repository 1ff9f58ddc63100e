// Text and JSON rendering for `list` and `describe`.
#include "report/schema_report.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "codec/proto_printer.hpp"

namespace grpcdx::report {

namespace gp = google::protobuf;
using nlohmann::ordered_json;

namespace {

// One compact line; invalid UTF-8 (e.g. in a comment of a .proto file) is replaced, not thrown.
std::string dump_line(const ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string render_services(OutputFormat format, const std::vector<std::string>& services) {
  if (format == OutputFormat::json) return dump_line(ordered_json{{"services", services}});
  std::string out;
  for (const auto& s : services) out += s + "\n";
  return out;
}

std::string render_methods(OutputFormat format, const gp::ServiceDescriptor& service) {
  if (format == OutputFormat::json) {
    ordered_json methods = ordered_json::array();
    for (int i = 0; i < service.method_count(); ++i) {
      const gp::MethodDescriptor* m = service.method(i);
      methods.push_back({{"name", m->name()},
                         {"full_name", m->full_name()},
                         {"input_type", m->input_type()->full_name()},
                         {"output_type", m->output_type()->full_name()},
                         {"client_streaming", m->client_streaming()},
                         {"server_streaming", m->server_streaming()}});
    }
    return dump_line(ordered_json{{"service", service.full_name()}, {"methods", methods}});
  }
  std::string out;
  for (int i = 0; i < service.method_count(); ++i) out += service.method(i)->full_name() + "\n";
  return out;
}

std::string symbol_proto(const schema::Symbol& symbol) {
  struct Printer {
    std::string operator()(const gp::ServiceDescriptor* d) const { return codec::print_service(*d); }
    std::string operator()(const gp::MethodDescriptor* d) const { return codec::print_method(*d); }
    std::string operator()(const gp::Descriptor* d) const { return codec::print_message(*d); }
    std::string operator()(const gp::EnumDescriptor* d) const { return codec::print_enum(*d); }
  };
  return std::visit(Printer{}, symbol);
}

std::string render_symbol(OutputFormat format, const schema::Symbol& symbol,
                          const std::optional<std::string>& message_template) {
  const std::string name = schema::symbol_name(symbol);
  const std::string kind = schema::symbol_kind(symbol);
  const std::string proto = symbol_proto(symbol);
  if (format == OutputFormat::json) {
    ordered_json j{{"symbol", name}, {"kind", kind}, {"proto", proto}};
    if (message_template) j["template"] = ordered_json::parse(*message_template);
    return dump_line(j);
  }
  std::string where = std::visit(
      [](const auto* d) -> std::string {
        if constexpr (std::is_same_v<std::decay_t<decltype(*d)>, gp::MethodDescriptor>) {
          return fmt::format("in service {} ({})", d->service()->full_name(), d->service()->file()->name());
        } else {
          return fmt::format("in {}", d->file()->name());
        }
      },
      symbol);
  std::string text = fmt::format("// {} is {} {} {}\n{}", name, kind == "enum" ? "an" : "a", kind, where, proto);
  if (message_template) text += fmt::format("\nMessage template:\n{}\n", *message_template);
  return text;
}

}  // namespace grpcdx::report
