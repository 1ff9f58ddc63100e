// Server reflection: the DescriptorPool lookups, the request/response mapping shared by v1 and
// v1alpha, and the bidi reactor (or synchronous loop) that answers one request at a time.
#include "server/reflection_service.hpp"

#include <algorithm>
#include <set>

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/impl/codegen/server_callback_handlers.h>
#include <grpcpp/support/method_handler.h>
#include <grpcpp/support/server_callback.h>

#include "grpc/health/v1/health.pb.h"
#include "grpc/testing/empty.pb.h"
#include "grpc/testing/messages.pb.h"

namespace grpcdx::server {

// grpc/testing/test.proto and grpc/reflection/v1alpha/reflection.proto as a FileDescriptorSet
// (without their imports), embedded by the build (CMakeLists.txt, cmake/embed_file.cmake).
extern const unsigned char k_served_protoset[];
extern const std::size_t k_served_protoset_size;

namespace gp = google::protobuf;
namespace v1 = grpc::reflection::v1;
using Request = v1::ServerReflectionRequest;
using Response = v1::ServerReflectionResponse;

const gp::DescriptorPool& served_pool() {
  static const gp::DescriptorPool* const pool = [] {
    // Leaked on purpose: the services may answer until the very end of the process.
    auto* p = new gp::DescriptorPool(gp::DescriptorPool::generated_pool());
    // The generated files it describes, registered with the generated pool (a generated file
    // registers itself on first use, see CMakeLists.txt) and kept in a static link.
    grpc::testing::Empty::descriptor();
    grpc::testing::SimpleRequest::descriptor();  // messages.proto, imported by test.proto
    grpc::health::v1::HealthCheckRequest::descriptor();
    v1::ServerReflectionRequest::descriptor();
    gp::FileDescriptorSet set;
    if (set.ParseFromArray(k_served_protoset, static_cast<int>(k_served_protoset_size)))
      for (const auto& file : set.file()) p->BuildFile(file);  // imports: the generated pool
    return p;
  }();
  return *pool;
}

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

void set_error(Response* response, grpc::StatusCode code, const std::string& message) {
  auto* error = response->mutable_error_response();
  error->set_error_code(static_cast<int>(code));
  error->set_error_message(message);
}

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

ReflectionService::ReflectionService(const ReflectionCore& core, const char* method_path, Handlers handlers) {
  using Stream = grpc::ServerReaderWriter<Response, Request>;
  if (handlers == Handlers::sync) {
    // One request answered at a time, as the reactor below does, on the server's own thread.
    AddMethod(new grpc::internal::RpcServiceMethod(
        method_path, grpc::internal::RpcMethod::BIDI_STREAMING,
        new grpc::internal::BidiStreamingHandler<ReflectionService, Request, Response>(
            [&core](ReflectionService*, grpc::ServerContext*, Stream* stream) {
              Request request;
              Response response;
              while (stream->Read(&request)) {
                response.Clear();
                answer_reflection(core, request, &response);
                if (!stream->Write(response))
                  return grpc::Status(grpc::StatusCode::CANCELLED, "reflection stream cancelled");
              }
              return grpc::Status::OK;
            },
            this)));
    return;
  }
  // As the generated CallbackService declares its method, with the v1 messages for either version.
  AddMethod(new grpc::internal::RpcServiceMethod(method_path,
                                                 grpc::internal::RpcMethod::BIDI_STREAMING, nullptr));
  MarkMethodCallback(0, new grpc::internal::CallbackBidiHandler<Request, Response>(
                            [&core](grpc::CallbackServerContext*) {
                              return new ReflectionReactor(core);
                            }));
}

ReflectionV1Service::ReflectionV1Service(const ReflectionCore& core, Handlers handlers)
    : ReflectionService(core, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", handlers) {}

ReflectionV1AlphaService::ReflectionV1AlphaService(const ReflectionCore& core, Handlers handlers)
    : ReflectionService(core, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", handlers) {}

}  // namespace grpcdx::server
