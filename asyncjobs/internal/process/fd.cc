// Making descriptors through the admission; the error names the job (the reactor's admission
// knows nothing of jobs).
#include "asyncjobs/internal/process/fd.h"

#include "absl/strings/str_cat.h"
#include "asyncjobs/job.h"

namespace asyncjobs::internal {
namespace {

int create_for_job(absl::FunctionRef<int()> create, std::string_view call,
                   DescriptorLease* lease, int descriptors) {
  try {
    return DescriptorAdmission::create(create, call, lease, descriptors);
  } catch (const DescriptorsExhausted& error) {
    const AbstractJob* job = current_job();
    if (job == nullptr) throw;
    throw DescriptorsExhausted(error.code().value(), error.call(),
                               absl::StrCat("job `", job->label(), "`"));
  }
}

}  // namespace

Fd Fd::open(absl::FunctionRef<int()> create, std::string_view call, DescriptorLease* lease) {
  Fd fd(create_for_job(create, call, lease, 1));
  fd.loose_ = fd.is_open() && lease == nullptr;
  return fd;
}

std::pair<Fd, Fd> Fd::open_pair(absl::FunctionRef<int(int fds[2])> create,
                                std::string_view call, DescriptorLease* lease) {
  int fds[2] = {-1, -1};
  if (create_for_job([&] { return create(fds); }, call, lease, 2) < 0) return {};
  std::pair<Fd, Fd> pair{Fd(fds[0]), Fd(fds[1])};
  pair.first.loose_ = pair.second.loose_ = lease == nullptr;
  return pair;
}

}  // namespace asyncjobs::internal
