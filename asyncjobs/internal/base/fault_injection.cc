// The fault-injection counters: skips then failures, per kind of call.
#include "asyncjobs/internal/base/fault_injection.h"

#include <atomic>
#include <mutex>

namespace asyncjobs::internal {
namespace {

struct Plan {
  int skip = 0;
  int fail = 0;
};

constexpr size_t kKinds = static_cast<size_t>(Fault::kCount);
std::mutex plans_mutex;
Plan plans[kKinds];

}  // namespace

namespace fault_injection_internal {
std::atomic<bool> armed[kKinds];
}  // namespace fault_injection_internal
using fault_injection_internal::armed;

void inject_fault(Fault fault, int count, int skip) {
  const size_t kind = static_cast<size_t>(fault);
  std::lock_guard<std::mutex> lock(plans_mutex);
  plans[kind] = {skip, count};
  armed[kind].store(count > 0, std::memory_order_relaxed);
}

bool fault_injection_internal::take_planned_failure(Fault fault) {
  const size_t kind = static_cast<size_t>(fault);
  std::lock_guard<std::mutex> lock(plans_mutex);
  Plan& plan = plans[kind];
  if (plan.skip > 0) {
    --plan.skip;
    return false;
  }
  if (plan.fail == 0) return false;
  if (--plan.fail == 0) armed[kind].store(false, std::memory_order_relaxed);
  return true;
}

}  // namespace asyncjobs::internal
