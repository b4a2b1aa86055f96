#ifndef ASYNCJOBS_INTERNAL_SCHEDULER_SCHEDULER_JOURNAL_H_
#define ASYNCJOBS_INTERNAL_SCHEDULER_SCHEDULER_JOURNAL_H_

// A scheduler's part in a run with a journal (SchedulerOptions::journal), and what a running
// job may keep in the journal besides its result: a pending token.
//
// Make's rule, with sequence numbers instead of file times: a job is restored when the
// journal holds a record of it newer than every record its requirements were restored from
// or recorded with in this run (a job that ran without being recorded counts as newest).
// A job that runs again is recorded with a newer number than any before it, so what it
// feeds runs again too, in this run or, if the process dies first, in the next one.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncjobs/internal/journal/journal_store.h"

namespace asyncjobs {
class AbstractJob;

namespace internal {

struct SchedulerJournal {
  static constexpr uint64_t kRan = UINT64_MAX;  // ran in this run and was not recorded

  std::shared_ptr<JournalStore> store;  // the outermost scheduler's, shared by nested ones
  std::string prefix;                   // key path of the members: "" or "outer/inner/"
  // Records at or below it are stale: a requirement of this (nested) scheduler ran again.
  uint64_t floor = 0;
  std::vector<uint64_t> seqs;  // by graph index: restored from, recorded as, or kRan
  std::vector<AbstractJob*> restored;  // restored, their successors not yet started
  bool draining = false;
};

// The pending token the job's record holds from an earlier run that died (e.g. "slurm:1234":
// a Slurm job to re-attach to), or nullopt: none, or the job's run has no journal.
std::optional<std::string> journal_pending(const AbstractJob& job);
// Keeps `token` under the job's key until the job is recorded (it then goes), durably at
// return; does nothing when the job's run has no journal. Call it from the running job.
void record_pending(const AbstractJob& job, std::string_view token);

// "not journaled: ..." for list(true) when the job is in a run with a journal and will not be
// recorded, else "".
std::string journal_note(const AbstractJob& job);

}  // namespace internal
}  // namespace asyncjobs

#endif  // ASYNCJOBS_INTERNAL_SCHEDULER_SCHEDULER_JOURNAL_H_
