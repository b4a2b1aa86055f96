// The journal's hooks in a Scheduler's run (SchedulerOptions::journal), Run's members:
// opening it for the whole tree, restoring a ready job instead of starting it, recording a
// job that returned; and the pending tokens of running jobs. See scheduler_journal.h for
// the rule.
#include "asyncjobs/internal/scheduler/scheduler_journal.h"

#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "asyncjobs/internal/base/clock.h"
#include "asyncjobs/internal/jobs/job_run_control.h"
#include "asyncjobs/internal/scheduler/job_graph.h"
#include "asyncjobs/internal/scheduler/run.h"
#include "asyncjobs/internal/scheduler/run_state.h"
#include "asyncjobs/scheduler.h"

namespace asyncjobs::internal {

SchedulerJournal* Run::journal_of(const AbstractJob& job) {
  const AbstractJob* parent = job.parent();
  const Run* run = parent != nullptr ? of(*parent) : nullptr;
  if (run == nullptr || run->journal_ == nullptr) return nullptr;
  return run->journal_->store != nullptr ? run->journal_.get() : nullptr;
}

namespace {

std::string key_path(const SchedulerJournal& journal, const AbstractJob& job) {
  return absl::StrCat(journal.prefix, job.key());
}

std::string readable_type(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string text = status == 0 ? name : type.name();
  std::free(name);
  return text;
}

}  // namespace

std::optional<std::string> journal_pending(const AbstractJob& job) {
  SchedulerJournal* journal = Run::journal_of(job);
  if (journal == nullptr) return std::nullopt;
  return journal->store->pending(key_path(*journal, job));
}

void record_pending(const AbstractJob& job, std::string_view token) {
  SchedulerJournal* journal = Run::journal_of(job);
  if (journal != nullptr) journal->store->record_pending(key_path(*journal, job), token);
}

std::string journal_note(const AbstractJob& job) {
  const AbstractJob* top = &job;
  while (top->parent() != nullptr) top = top->parent();
  if (top == &job || static_cast<const Scheduler*>(top)->options().journal.empty() ||
      job.is_scheduler()) {
    return "";
  }
  if (job.forever()) return "not journaled: a forever job";
  const ResultCoder* coder = job.result_coder();
  if (coder == nullptr) {
    return absl::StrCat("not journaled: ", job.type_name(),
                        " does not say its result type (AbstractJob::result_coder)");
  }
  if (!coder->journaled()) {
    return absl::StrCat("not journaled: no ResultCodec for ", readable_type(coder->type));
  }
  return "";
}

void Run::open_journal() {
  check_journal_keys();
  attach_journal(std::make_shared<JournalStore>(options_.journal), "");
}

void Run::attach_journal(std::shared_ptr<JournalStore> store, std::string prefix) {
  journal_ = std::make_unique<SchedulerJournal>();
  journal_->seqs.assign(graph_.jobs().size(), SchedulerJournal::kRan);
  for (Scheduler* nested : graph_.nested()) {
    of(*nested)->attach_journal(store, absl::StrCat(prefix, nested->key(), "/"));
  }
  journal_->store = std::move(store);
  journal_->prefix = std::move(prefix);
}

// The run is over: the file closes (and unlocks) with the last reference.
void Run::detach_journal() {
  if (journal_ == nullptr) return;
  JobRunControl::set_restored(scheduler_, scheduler_.restored() || every_member_restored());
  for (Scheduler* nested : graph_.nested()) of(*nested)->detach_journal();
  journal_.reset();
}

bool Run::every_member_restored() const {
  size_t awaited = 0;
  for (const JobPtr& job : graph_.jobs()) {
    if (job->forever()) continue;
    if (!job->restored()) return false;
    ++awaited;
  }
  return awaited > 0;
}

void Run::check_journal_keys() const {
  absl::flat_hash_map<std::string, const AbstractJob*> seen;
  auto visit = [&](auto& self, const Run& run, const std::string& prefix) -> void {
    for (const JobPtr& job : run.graph_.jobs()) {
      std::string path = absl::StrCat(prefix, job->key());
      auto [where, inserted] = seen.emplace(path, job.get());
      if (!inserted) {
        throw GraphError(absl::StrCat(
            "asyncjobs: jobs `", where->second->label(), "` and `", job->label(),
            "` have the same journal key `", path, "` in the run of `", scheduler_.label(),
            "`: give one another label or JobOptions::key"));
      }
      if (job->is_scheduler()) self(self, *of(*job), path + "/");
    }
  };
  visit(visit, *this, "");
}

bool Run::restore(AbstractJob* job) {
  SchedulerJournal& journal = *journal_;
  uint64_t floor = journal.floor;
  for (const JobRunControl::Requirement requirement : JobRunControl::required(*job)) {
    floor = std::max(floor, journal.seqs[JobRunControl::graph_index(*requirement.job)]);
  }
  if (job->is_scheduler()) {  // not recorded as a whole: its jobs are, above this floor
    of(*job)->journal_->floor = floor;
    return false;
  }
  if (floor == SchedulerJournal::kRan || job->forever()) return false;
  const ResultCoder* coder = job->result_coder();
  if (coder == nullptr || !coder->journaled()) return false;
  const JournalStore::Record* record = journal.store->find(key_path(journal, *job));
  if (record == nullptr || record->seq <= floor) return false;
  Value value;
  try {
    value = coder->decode(record->value);
  } catch (...) {  // unreadable (the codec changed?): it runs again
    return false;
  }
  JobRunControl::restore(*job, std::move(value), clock_ticks());
  journal.seqs[JobRunControl::graph_index(*job)] = record->seq;
  say_job("RESTORED", *job);
  if (events_wanted_) on_job_event({JobEvent::Kind::kRestored, job, absl::Now(), {}});
  journal.restored.push_back(job);
  if (!journal.draining) count_restored();
  return true;
}

// Counts the restored jobs as done and starts what they free. In a loop rather than from
// restore(): a restored chain would recurse once per job; and not while the run's start
// still reads the members' requirement counts.
void Run::count_restored() {
  SchedulerJournal& journal = *journal_;
  journal.draining = true;
  for (size_t i = 0; i < journal.restored.size(); ++i) {  // it grows as successors restore
    state_.awaited_done();
    start_successors(*journal.restored[i]);
  }
  journal.restored.clear();
  journal.draining = false;
}

void Run::record(AbstractJob& job) {
  SchedulerJournal& journal = *journal_;
  uint64_t& seq = journal.seqs[JobRunControl::graph_index(job)];
  if (job.is_scheduler()) {  // as new as its newest member
    const Run& nested = *of(job);
    seq = 0;
    for (const JobPtr& member : nested.graph_.jobs()) {
      if (member->forever()) continue;
      seq = std::max(seq, nested.journal_->seqs[JobRunControl::graph_index(*member)]);
    }
    JobRunControl::set_restored(job, nested.every_member_restored());
    return;
  }
  const ResultCoder* coder = job.result_coder();
  if (job.forever() || coder == nullptr || !coder->journaled()) return;
  try {
    seq = journal.store->record(key_path(journal, job),
                                coder->encode(JobRunControl::returned(job)));
  } catch (const std::exception& error) {  // it will run again next time
    say(absl::StrCat("journal: job `", job.label(), "` was not recorded: ", error.what()),
        /*always=*/true);
  }
}

}  // namespace asyncjobs::internal
