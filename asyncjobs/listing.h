#ifndef ASYNCJOBS_LISTING_H_
#define ASYNCJOBS_LISTING_H_

// Text views of a scheduler: `Scheduler::list`, `list_safe`, `debrief`, `stats` and `repr`
// (declared in scheduler.h, defined in listing.cc), in the original's shapes.
//
// Each job shows a 4-column badge: critical `⚠`; `★` raised / `☉` ran without exception;
// state `⚐` idle, `⚑` scheduled, `↺` running, `☓` done; `∞` forever. In ASCII: `!`,
// `:(` / `:)`, `>` `.` `o` `x`, `8`. ASCII is chosen once per process, on first use, when
// `ASYNCJOBS_ASCII=1` or the locale's codeset (LC_ALL, LC_CTYPE, LANG) is not UTF-8.

namespace asyncjobs {

// Whether badges use ASCII symbols (see above). Thread-safe.
bool ascii_symbols();
// Overrides that choice for the rest of the process (tests check both encodings).
void set_ascii_symbols(bool ascii);

}  // namespace asyncjobs

#endif  // ASYNCJOBS_LISTING_H_
