// Server reflection: the DescriptorPool lookups, the request/response mapping shared by v1 and
// v1alpha, and the bidi reactor that answers one request at a time.
#include "server/reflection_service.hpp"

#include <algorithm>
#include <set>

#include <google/protobuf/descriptor.pb.h>

namespace grpcdx::server {

namespace gp = google::protobuf;

ReflectionCore::ReflectionCore(const gp::DescriptorPool* pool, std::vector<std::string> services)
    : m_pool(pool), m_services(std::move(services)) {
  std::sort(m_services.begin(), m_services.end());
}

std::vector<std::string> ReflectionCore::with_dependencies(const gp::FileDescriptor* file) const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::vector<const gp::FileDescriptor*> todo{file};
  while (!todo.empty()) {
    const gp::FileDescriptor* f = todo.back();
    todo.pop_back();
    if (!seen.insert(f->name()).second) continue;
    gp::FileDescriptorProto proto;
    f->CopyTo(&proto);
    out.push_back(proto.SerializeAsString());
    for (int i = f->dependency_count() - 1; i >= 0; --i) todo.push_back(f->dependency(i));
  }
  return out;
}

Result<std::vector<std::string>> ReflectionCore::file_by_filename(const std::string& filename) const {
  const gp::FileDescriptor* file = m_pool->FindFileByName(filename);
  if (!file) return local_error("file not found: " + filename);
  return with_dependencies(file);
}

Result<std::vector<std::string>> ReflectionCore::file_containing_symbol(const std::string& symbol) const {
  const gp::FileDescriptor* file = m_pool->FindFileContainingSymbol(symbol);
  if (!file) return local_error("symbol not found: " + symbol);
  return with_dependencies(file);
}

Result<std::vector<std::string>> ReflectionCore::file_containing_extension(const std::string& containing_type,
                                                                          int number) const {
  const gp::Descriptor* type = m_pool->FindMessageTypeByName(containing_type);
  if (!type) return local_error("type not found: " + containing_type);
  const gp::FieldDescriptor* ext = m_pool->FindExtensionByNumber(type, number);
  if (!ext) return local_error("extension not found: " + containing_type + " field " + std::to_string(number));
  return with_dependencies(ext->file());
}

Result<std::vector<int>> ReflectionCore::extension_numbers(const std::string& type_name) const {
  const gp::Descriptor* type = m_pool->FindMessageTypeByName(type_name);
  if (!type) return local_error("type not found: " + type_name);
  std::vector<const gp::FieldDescriptor*> extensions;
  m_pool->FindAllExtensions(type, &extensions);
  std::vector<int> numbers;
  for (const auto* e : extensions) numbers.push_back(e->number());
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

namespace {

template <class Response>
void set_error(Response* response, grpc::StatusCode code, const std::string& message) {
  auto* error = response->mutable_error_response();
  error->set_error_code(static_cast<int>(code));
  error->set_error_message(message);
}

template <class Response>
void set_files(Response* response, const Result<std::vector<std::string>>& files) {
  if (!files) {
    set_error(response, grpc::StatusCode::NOT_FOUND, files.error().message);
    return;
  }
  auto* out = response->mutable_file_descriptor_response();
  for (const auto& f : *files) out->add_file_descriptor_proto(f);
}

// Reads a request, writes its answer, reads the next: one operation at a time, so the reactions
// never run concurrently and need no lock. Ends with OK when the client half-closes.
template <class Request, class Response>
class ReflectionReactor final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit ReflectionReactor(const ReflectionCore& core) : m_core(core) { this->StartRead(&m_request); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::OK);
      return;
    }
    m_response.Clear();
    answer_reflection(m_core, m_request, &m_response);
    this->StartWrite(&m_response);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "reflection stream cancelled"));
      return;
    }
    this->StartRead(&m_request);
  }

  void OnDone() override { delete this; }

 private:
  const ReflectionCore& m_core;
  Request m_request;
  Response m_response;
};

}  // namespace

template <class Request, class Response>
void answer_reflection(const ReflectionCore& core, const Request& request, Response* response) {
  response->set_valid_host(request.host());
  *response->mutable_original_request() = request;
  switch (request.message_request_case()) {
    case Request::kFileByFilename:
      set_files(response, core.file_by_filename(request.file_by_filename()));
      break;
    case Request::kFileContainingSymbol:
      set_files(response, core.file_containing_symbol(request.file_containing_symbol()));
      break;
    case Request::kFileContainingExtension:
      set_files(response, core.file_containing_extension(request.file_containing_extension().containing_type(),
                                                         request.file_containing_extension().extension_number()));
      break;
    case Request::kAllExtensionNumbersOfType: {
      auto numbers = core.extension_numbers(request.all_extension_numbers_of_type());
      if (!numbers) {
        set_error(response, grpc::StatusCode::NOT_FOUND, numbers.error().message);
        break;
      }
      auto* out = response->mutable_all_extension_numbers_response();
      out->set_base_type_name(request.all_extension_numbers_of_type());
      for (int n : *numbers) out->add_extension_number(n);
      break;
    }
    case Request::kListServices: {
      auto* out = response->mutable_list_services_response();
      for (const auto& name : core.list_services()) out->add_service()->set_name(name);
      break;
    }
    default:
      set_error(response, grpc::StatusCode::UNIMPLEMENTED, "The request is not implemented.");
      break;
  }
}

template void answer_reflection(const ReflectionCore&, const grpc::reflection::v1::ServerReflectionRequest&,
                                grpc::reflection::v1::ServerReflectionResponse*);
template void answer_reflection(const ReflectionCore&, const grpc::reflection::v1alpha::ServerReflectionRequest&,
                                grpc::reflection::v1alpha::ServerReflectionResponse*);

grpc::ServerBidiReactor<grpc::reflection::v1::ServerReflectionRequest, grpc::reflection::v1::ServerReflectionResponse>*
ReflectionV1Service::ServerReflectionInfo(grpc::CallbackServerContext*) {
  return new ReflectionReactor<grpc::reflection::v1::ServerReflectionRequest,
                               grpc::reflection::v1::ServerReflectionResponse>(m_core);
}

grpc::ServerBidiReactor<grpc::reflection::v1alpha::ServerReflectionRequest,
                        grpc::reflection::v1alpha::ServerReflectionResponse>*
ReflectionV1AlphaService::ServerReflectionInfo(grpc::CallbackServerContext*) {
  return new ReflectionReactor<grpc::reflection::v1alpha::ServerReflectionRequest,
                               grpc::reflection::v1alpha::ServerReflectionResponse>(m_core);
}

}  // namespace grpcdx::server
