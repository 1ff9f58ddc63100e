// One ChaosAdmin call through the generated stub.
#include "chaos/admin_client.hpp"

#include <grpcpp/grpcpp.h>

#include "grpcdx/chaos/v1/admin.grpc.pb.h"

namespace grpcdx::chaos {

namespace pb = grpcdx::chaos::v1;

namespace {

FaultStatus from_message(const pb::Fault& f) { return FaultStatus{f.id(), f.spec(), f.matched(), f.injected()}; }

}  // namespace

Result<AdminAnswer> call_admin(const AdminRequest& request) {
  TRY(auto channel, net::make_channel(request.conn));
  auto stub = pb::ChaosAdmin::NewStub(channel);
  grpc::ClientContext ctx;
  if (request.conn.rpc_timeout)
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(*request.conn.rpc_timeout));
  if (!request.token.empty()) ctx.AddMetadata("authorization", "Bearer " + request.token);
  AdminAnswer answer;
  grpc::Status status;
  switch (request.verb) {
    case AdminVerb::list: {
      auto resp = std::make_unique<pb::ListFaultsResponse>();
      status = stub->ListFaults(&ctx, pb::ListFaultsRequest(), resp.get());
      for (const auto& f : resp->faults()) answer.faults.push_back(from_message(f));
      answer.message = std::move(resp);
      break;
    }
    case AdminVerb::add: {
      pb::AddFaultRequest req;
      req.set_spec(request.arg);
      auto resp = std::make_unique<pb::Fault>();
      status = stub->AddFault(&ctx, req, resp.get());
      answer.faults.push_back(from_message(*resp));
      answer.message = std::move(resp);
      break;
    }
    case AdminVerb::remove: {
      pb::RemoveFaultRequest req;
      req.set_id(request.arg);
      auto resp = std::make_unique<pb::RemoveFaultResponse>();
      status = stub->RemoveFault(&ctx, req, resp.get());
      answer.message = std::move(resp);
      break;
    }
    case AdminVerb::clear: {
      auto resp = std::make_unique<pb::ClearFaultsResponse>();
      status = stub->ClearFaults(&ctx, pb::ClearFaultsRequest(), resp.get());
      answer.message = std::move(resp);
      break;
    }
    case AdminVerb::counters:
    case AdminVerb::reset_counters: {
      auto resp = std::make_unique<pb::Counters>();
      status = request.verb == AdminVerb::counters ? stub->GetCounters(&ctx, pb::GetCountersRequest(), resp.get())
                                                   : stub->ResetCounters(&ctx, pb::ResetCountersRequest(), resp.get());
      answer.counters_json = resp->json();
      answer.message = std::move(resp);
      break;
    }
  }
  if (!status.ok()) return status_error(static_cast<int>(status.error_code()), status.error_message());
  return answer;
}

}  // namespace grpcdx::chaos
