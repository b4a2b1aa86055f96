#ifndef ASYNCJOBS_SLURM_SUBMIT_SLOT_H_
#define ASYNCJOBS_SLURM_SUBMIT_SLOT_H_

// SubmitSlot: at most kMaxSubmissions sbatch processes at a time per reactor, handed out
// first come, first served, so that thousands of batch jobs starting together neither
// flood the node with processes nor slurmctld with simultaneous submissions.

#include "asyncjobs/internal/reactor/reactor.h"

namespace asyncjobs::slurm::internal {

inline constexpr int kMaxSubmissions = 8;

// Holds one of the running reactor's submission slots while alive. Outside a job it holds
// nothing (nothing else runs on the thread).
class SubmitSlot {
 public:
  SubmitSlot();   // suspends the job until a slot is free; throws Cancelled meanwhile
  ~SubmitSlot();  // hands the slot to the job that has waited longest
  SubmitSlot(const SubmitSlot&) = delete;
  SubmitSlot& operator=(const SubmitSlot&) = delete;

 private:
  Reactor* reactor_ = nullptr;  // nullptr: no slot held
};

}  // namespace asyncjobs::slurm::internal

#endif  // ASYNCJOBS_SLURM_SUBMIT_SLOT_H_
