#ifndef ASYNCJOBS_ASYNCJOBS_H_
#define ASYNCJOBS_ASYNCJOBS_H_

// The whole public API of asyncjobs: `#include "asyncjobs/asyncjobs.h"`.

#include "asyncjobs/cancelled.h"
#include "asyncjobs/errors.h"
#include "asyncjobs/event.h"
#include "asyncjobs/fiber_calls.h"
#include "asyncjobs/job.h"
#include "asyncjobs/journal.h"
#include "asyncjobs/listing.h"
#include "asyncjobs/print_job.h"
#include "asyncjobs/process_job.h"
#include "asyncjobs/queue.h"
#include "asyncjobs/scheduler.h"
#include "asyncjobs/sequence.h"
#include "asyncjobs/stack_options.h"
#include "asyncjobs/watch.h"

#endif  // ASYNCJOBS_ASYNCJOBS_H_
