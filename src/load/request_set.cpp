// Building request ByteBuffers for a load run, fixed or templated.
#include "load/request_set.hpp"

#include <fmt/format.h>

#include "load/request_template.hpp"

namespace grpcdx::load {

grpc::ByteBuffer to_byte_buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

Result<std::unique_ptr<RequestSet>> RequestSet::create(const std::vector<std::string>& json_messages,
                                                       const google::protobuf::Descriptor* type,
                                                       codec::MessageCodec& codec, const std::string& source,
                                                       MethodNames names) {
  std::unique_ptr<RequestSet> set(new RequestSet(type, codec, source, std::move(names)));
  std::vector<std::string> texts = json_messages;
  if (texts.empty()) texts.emplace_back("{}");
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string where = texts.size() > 1 ? fmt::format("{} (message {})", source, i + 1) : source;
    Entry entry;
    std::string json = texts[i];
    if (has_template(json)) {
      TRY_VOID(check_template(json, where));
      entry.is_template = true;
      entry.uses_uuid = uses_call_uuid(json);
      entry.text = json;
      set->m_templated = true;
      std::mt19937_64 rng(1);
      json = expand_template(json, TemplateVars{0, 0, random_uuid(rng), std::chrono::system_clock::now(),
                                                &set->m_names, &rng});
    }
    auto message = codec.from_json(json, type);
    if (!message) return std::unexpected(message.error().with_context(where));
    if (!entry.is_template) entry.fixed = to_byte_buffer((*message)->SerializeAsString());
    set->m_messages.push_back(std::move(entry));
  }
  return set;
}

Result<grpc::ByteBuffer> RequestSet::message(size_t index, uint64_t request_number, int worker_id) {
  Entry& entry = m_messages[index % m_messages.size()];
  if (!entry.is_template) return entry.fixed;
  std::lock_guard lock(m_mutex);
  TemplateVars vars{request_number, worker_id, entry.uses_uuid ? random_uuid(m_rng) : std::string(),
                    std::chrono::system_clock::now(), &m_names, &m_rng};
  std::string json = expand_template(entry.text, vars);
  auto message = m_codec.from_json(json, m_type);
  if (!message)
    return std::unexpected(message.error().with_context(fmt::format("{} for request {}", m_source, request_number)));
  return to_byte_buffer((*message)->SerializeAsString());
}

}  // namespace grpcdx::load
