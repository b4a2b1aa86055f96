#ifndef ASYNCJOBS_INTERNAL_JOBS_LINK_STAMPS_H_
#define ASYNCJOBS_INTERNAL_JOBS_LINK_STAMPS_H_

// Two process-wide counters that let a scheduler count its members' requirements as they are
// added instead of in a pass over every job before the run (internal/scheduler/job_graph.h):
// - link passes number the runs' linking: a requirement link is stamped with the number
//   current when it is made, and a run counts only the links made before it was linked (a
//   job that requires another during the run does not wait for it in that run);
// - member changes count the edits the scheduler's graph does not see itself, made to a job
//   that already belongs to a scheduler: a requirement added or dropped, a cancel() before
//   it started, forever set. A graph that saw none since it was made trusts what it counted
//   when its jobs were added.

#include <atomic>
#include <cstdint>

namespace asyncjobs::internal {

inline std::atomic<uint32_t> link_passes{0};
inline std::atomic<uint64_t> member_changes{0};

inline uint32_t current_link_pass() { return link_passes.load(std::memory_order_relaxed); }
inline uint32_t next_link_pass() {
  return link_passes.fetch_add(1, std::memory_order_relaxed) + 1;
}
// A link stamped `made` counts for the run linked at `pass` if made before it (modulo 2^32:
// a link outlives at most 2^31 link passes of the process).
inline bool made_before(uint32_t made, uint32_t pass) {
  return static_cast<int32_t>(made - pass) < 0;
}

inline uint64_t member_changes_so_far() { return member_changes.load(std::memory_order_relaxed); }
inline void note_member_change() { member_changes.fetch_add(1, std::memory_order_relaxed); }

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_LINK_STAMPS_H_
