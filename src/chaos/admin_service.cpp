// grpcdx.chaos.v1.ChaosAdmin over an Injector, plus reflection and health on the same port, served
// by synchronous handlers whose threads poll nothing when the proxy's loop polls for them.
#include "chaos/admin_service.hpp"

#include <arpa/inet.h>

#include <cstdlib>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "chaos/counters.hpp"
#include "chaos/fault_spec.hpp"
#include "chaos/plan.hpp"
#include "grpcdx/chaos/v1/admin.grpc.pb.h"
#include "server/health_service.hpp"
#include "server/reflection_service.hpp"
#include "server/server.hpp"

namespace grpcdx::chaos {

namespace pb = grpcdx::chaos::v1;

bool is_local_admin_address(std::string_view listen) {
  if (listen.starts_with("unix:") || listen.starts_with("unix-abstract:")) return true;
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string host(listen.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool process_wide_polling(const char* poll_strategy_env) {
  // C-core takes the first engine of the comma-separated list that works; "all" starts with epoll1.
  std::string_view list = poll_strategy_env ? poll_strategy_env : "";
  std::string_view first = list.substr(0, list.find(','));
  return first.empty() || first == "all" || first == "epoll1";
}

bool admin_authorized(std::string_view token, const std::vector<std::string_view>& authorization) {
  if (token.empty()) return true;
  const std::string expected = fmt::format("Bearer {}", token);
  bool granted = false;
  for (auto value : authorization) {
    // Compare every byte whatever the first mismatch, so timing tells nothing of the token.
    unsigned char diff = value.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i)
      diff |= static_cast<unsigned char>(expected[i] ^ (i < value.size() ? value[i] : 0));
    granted |= diff == 0;
  }
  return granted;
}

// Named, not anonymous: AdminCore (declared in the header) holds an AdminService.
namespace admin_detail {

void fill(pb::Fault* out, const FaultStatus& f) {
  out->set_id(f.id);
  out->set_spec(f.spec);
  out->set_matched(f.matched);
  out->set_injected(f.injected);
}

class AdminService final : public pb::ChaosAdmin::Service {
 public:
  AdminService(Injector& injector, std::string token) : m_injector(injector), m_token(std::move(token)) {}

  grpc::Status ListFaults(grpc::ServerContext* ctx, const pb::ListFaultsRequest*, pb::ListFaultsResponse* resp) override {
    if (auto denied = authorize(*ctx); !denied.ok()) return denied;
    for (const auto& f : m_injector.list_faults()) fill(resp->add_faults(), f);
    return grpc::Status::OK;
  }

  grpc::Status AddFault(grpc::ServerContext* ctx, const pb::AddFaultRequest* req, pb::Fault* resp) override {
    if (auto denied = authorize(*ctx); !denied.ok()) return denied;
    auto spec = parse_fault_spec(req->spec(), m_injector.mode());
    if (!spec) return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, spec.error().message);
    auto added = m_injector.add_fault(std::move(*spec));
    if (!added) return refused(added.error());
    fill(resp, *added);
    return grpc::Status::OK;
  }

  grpc::Status RemoveFault(grpc::ServerContext* ctx, const pb::RemoveFaultRequest* req,
                           pb::RemoveFaultResponse*) override {
    if (auto denied = authorize(*ctx); !denied.ok()) return denied;
    auto removed = m_injector.remove_fault(req->id());
    if (!removed) return refused(removed.error());
    if (!*removed)
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          fmt::format("no fault with id '{}' (ListFaults shows the current ids)", req->id()));
    return grpc::Status::OK;
  }

  grpc::Status ClearFaults(grpc::ServerContext* ctx, const pb::ClearFaultsRequest*, pb::ClearFaultsResponse*) override {
    if (auto denied = authorize(*ctx); !denied.ok()) return denied;
    if (auto cleared = m_injector.clear_faults(); !cleared) return refused(cleared.error());
    return grpc::Status::OK;
  }

  grpc::Status GetCounters(grpc::ServerContext* ctx, const pb::GetCountersRequest*, pb::Counters* resp) override {
    if (auto denied = authorize(*ctx); !denied.ok()) return denied;
    resp->set_json(counters_json(m_injector.counters().snapshot()).dump());
    return grpc::Status::OK;
  }

  grpc::Status ResetCounters(grpc::ServerContext* ctx, const pb::ResetCountersRequest*, pb::Counters* resp) override {
    if (auto denied = authorize(*ctx); !denied.ok()) return denied;
    resp->set_json(counters_json(m_injector.reset_counters()).dump());
    return grpc::Status::OK;
  }

 private:
  // A change the proxy could not make (loss=P's nftables rules): the faults in force stay.
  static grpc::Status refused(const Error& e) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        e.hint.empty() ? e.message : fmt::format("{} ({})", e.message, e.hint));
  }

  grpc::Status authorize(const grpc::ServerContext& ctx) const {
    if (m_token.empty()) return grpc::Status::OK;
    std::vector<std::string_view> values;
    auto [begin, end] = ctx.client_metadata().equal_range("authorization");
    for (auto it = begin; it != end; ++it) values.emplace_back(it->second.data(), it->second.size());
    if (admin_authorized(m_token, values)) return grpc::Status::OK;
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the chaos admin service needs 'authorization: Bearer TOKEN' with the proxy's --admin-token");
  }

  Injector& m_injector;
  std::string m_token;
};

}  // namespace admin_detail

class AdminCore {
 public:
  AdminCore(Injector& injector, std::string token) : admin(injector, std::move(token)) {}

  // Declared before the server so they outlive it.
  admin_detail::AdminService admin;
  server::SyncHealthService health;
  std::unique_ptr<server::ReflectionCore> reflection_core;
  std::unique_ptr<server::ReflectionV1Service> reflection_v1;
  std::unique_ptr<server::ReflectionV1AlphaService> reflection_v1alpha;
  // With proxy_polls: a queue no thread waits on, there only to make gRPC build the server's
  // request queues non-polling (grpc::ServerBuilder does so for a synchronous server that also has
  // a "frequently polled" queue of its own). Drained when the server has stopped.
  std::unique_ptr<grpc::ServerCompletionQueue> unpolled;
  std::unique_ptr<grpc::Server> server;
  bool stopped = false;

  void drain_unpolled() {
    if (!unpolled) return;
    unpolled->Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (unpolled->Next(&tag, &ok)) {
    }
    unpolled.reset();
  }
};

AdminServer::AdminServer() = default;
AdminServer::~AdminServer() { stop(); }

void AdminServer::stop() {
  if (!m_core || m_core->stopped) return;
  m_core->stopped = true;
  m_core->health.shutdown();
  m_core->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  m_core->server->Wait();
  m_core->drain_unpolled();
}

Result<std::unique_ptr<AdminServer>> AdminServer::start(const AdminOptions& options, Injector& injector) {
  TRY_VOID(server::check_listen_address(options.listen));
  std::unique_ptr<AdminServer> admin(new AdminServer());
  admin->m_core = std::make_unique<AdminCore>(injector, options.token);
  auto& core = *admin->m_core;
  // The generated admin.proto registers its descriptor on first use (cmake/lazy_descriptors.cmake):
  // touch it so reflection finds it through served_pool()'s underlay, the generated pool.
  pb::Fault::descriptor();
  const std::string admin_service = pb::ChaosAdmin::service_full_name();
  core.reflection_core = std::make_unique<server::ReflectionCore>(
      &server::served_pool(), std::vector<std::string>{admin_service, "grpc.health.v1.Health",
                                                       "grpc.reflection.v1.ServerReflection",
                                                       "grpc.reflection.v1alpha.ServerReflection"});
  // Synchronous handlers throughout: a callback service would start gRPC's callback threads,
  // which poll like any other (see AdminOptions::proxy_polls).
  core.reflection_v1 = std::make_unique<server::ReflectionV1Service>(*core.reflection_core, server::Handlers::sync);
  core.reflection_v1alpha =
      std::make_unique<server::ReflectionV1AlphaService>(*core.reflection_core, server::Handlers::sync);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.RegisterService(&core.admin);
  builder.RegisterService(&core.health);
  builder.RegisterService(core.reflection_v1.get());
  builder.RegisterService(core.reflection_v1alpha.get());
  if (options.proxy_polls && process_wide_polling(std::getenv("GRPC_POLL_STRATEGY")))
    core.unpolled = builder.AddCompletionQueue(/*is_frequently_polled=*/true);
  core.server = builder.BuildAndStart();
  if (!core.server || port == 0) {
    core.drain_unpolled();
    admin->m_core.reset();
    return local_error(fmt::format("cannot listen on {} (--admin): the address is in use or not this machine's",
                                   options.listen));
  }
  core.health.set_status("", grpc::health::v1::HealthCheckResponse::SERVING);
  core.health.set_status(admin_service, grpc::health::v1::HealthCheckResponse::SERVING);
  const std::string& l = options.listen;
  if (l.starts_with("unix:") || l.starts_with("unix-abstract:"))
    admin->m_address = l;
  else
    admin->m_address = l.substr(0, l.rfind(':')) + ":" + std::to_string(port);
  return admin;
}

}  // namespace grpcdx::chaos
