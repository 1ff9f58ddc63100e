// Building new fault sets from old ones: each change copies the small list, never edits it.
#include "chaos/fault_set.hpp"

#include <algorithm>

namespace grpcdx::chaos {

std::string fault_id(uint64_t n) { return "f" + std::to_string(n); }

std::shared_ptr<const FaultSet> without_fault(const FaultSet& set, const std::string& id) {
  auto it = std::find_if(set.faults.begin(), set.faults.end(), [&](const FaultEntry& e) { return e.id == id; });
  if (it == set.faults.end()) return nullptr;
  auto next = std::make_shared<FaultSet>(set);
  next->faults.erase(next->faults.begin() + (it - set.faults.begin()));
  return next;
}

std::shared_ptr<const FaultSet> with_origin_replaced(const FaultSet& set, FaultOrigin origin,
                                                     std::vector<FaultEntry> replacement) {
  auto next = std::make_shared<FaultSet>();
  for (const auto& e : set.faults)
    if (e.origin != origin) next->faults.push_back(e);
  for (auto& e : replacement) next->faults.push_back(std::move(e));
  return next;
}

}  // namespace grpcdx::chaos
