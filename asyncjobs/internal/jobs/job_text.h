#ifndef ASYNCJOBS_INTERNAL_JOBS_JOB_TEXT_H_
#define ASYNCJOBS_INTERNAL_JOBS_JOB_TEXT_H_

// The pieces of a job's line in listings, shared by AbstractJob::repr() and the text, DOT
// and trace views. They read a job through its public accessors only.

#include <exception>
#include <string>

#include "asyncjobs/job.h"

namespace asyncjobs::internal {

// The 4-column badge, "⚠ ☉ ☓  " or "! :) x  " (see listing.h).
std::string badge(const AbstractJob& job);
// "<Job `label`>": the job's type_name() and label().
std::string job_main(const AbstractJob& job);
// "[[ -> VALUE]]", "!! CRIT. EXC. => Type:what!!", "!! exception => Type:what!!" or
// "[not done]"; the value is the job's format_result().
std::string job_result(const AbstractJob& job);

// An exception as listings show it: the thrown object's unqualified type name, and what()
// for a std::exception (empty otherwise). Both empty for a null `error`.
struct ExceptionText {
  std::string type;
  std::string what;
};
ExceptionText exception_text(std::exception_ptr error);

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_JOBS_JOB_TEXT_H_
