// A job's badge, main part and result as listings show them, and AbstractJob::repr().
#include "asyncjobs/internal/jobs/job_text.h"

#include <cxxabi.h>
#include <langinfo.h>
#include <locale.h>

#include <atomic>
#include <cstdlib>
#include <typeinfo>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "asyncjobs/internal/base/type_name.h"
#include "asyncjobs/listing.h"

namespace asyncjobs {
namespace {

// -1: not decided yet; else 0 or 1.
std::atomic<int> ascii_choice{-1};

bool names_utf8(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(std::string(name));
  return absl::StrContains(lower, "utf-8") || absl::StrContains(lower, "utf8");
}

// The codeset of the locale the environment asks for, without touching the global locale
// (a program that never calls setlocale() still gets its terminal's encoding).
bool environment_is_utf8() {
  locale_t locale = newlocale(LC_CTYPE_MASK, "", static_cast<locale_t>(0));
  if (locale != static_cast<locale_t>(0)) {
    const bool utf8 = names_utf8(nl_langinfo_l(CODESET, locale));
    freelocale(locale);
    return utf8;
  }
  // The named locale is not installed: trust its name.
  for (const char* variable : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* value = std::getenv(variable);
    if (value != nullptr && *value != '\0') return names_utf8(value);
  }
  return false;
}

bool detect_ascii() {
  const char* forced = std::getenv("ASYNCJOBS_ASCII");
  if (forced != nullptr && absl::string_view(forced) == "1") return true;
  return !environment_is_utf8();
}

struct Symbols {
  const char* critical;
  const char* raised;
  const char* ran;
  const char* none;  // neither raised nor ran: as wide as those two
  const char* idle;
  const char* scheduled;
  const char* running;
  const char* done;
  const char* forever;
};
constexpr Symbols kUnicode{"⚠", "★", "☉", " ", "⚐", "⚑", "↺", "☓", "∞"};
constexpr Symbols kAscii{"!", ":(", ":)", "  ", ">", ".", "o", "x", "8"};

const char* state_symbol(const AbstractJob& job, const Symbols& symbols) {
  if (job.is_done()) return symbols.done;
  if (job.is_running()) return symbols.running;
  if (job.is_scheduled()) return symbols.scheduled;
  return symbols.idle;
}

const char* outcome_symbol(const AbstractJob& job, const Symbols& symbols) {
  if (job.raised_exception()) return symbols.raised;
  if (job.is_running() || job.is_done()) return symbols.ran;
  return symbols.none;
}

}  // namespace

bool ascii_symbols() {
  int choice = ascii_choice.load(std::memory_order_relaxed);
  if (choice < 0) {
    int detected = detect_ascii() ? 1 : 0;
    // Decided once: a concurrent first call or an override may have won the race.
    ascii_choice.compare_exchange_strong(choice, detected);
    choice = ascii_choice.load(std::memory_order_relaxed);
  }
  return choice == 1;
}

void set_ascii_symbols(bool ascii) { ascii_choice.store(ascii ? 1 : 0); }

namespace internal {

std::string badge(const AbstractJob& job) {
  const Symbols& symbols = ascii_symbols() ? kAscii : kUnicode;
  return absl::StrCat(job.critical() ? symbols.critical : " ", " ",
                      outcome_symbol(job, symbols), " ", state_symbol(job, symbols), " ",
                      job.forever() ? symbols.forever : " ");
}

std::string job_main(const AbstractJob& job) {
  return absl::StrCat("<", job.type_name(), " `", job.text_label(), "`>");
}

std::string job_result(const AbstractJob& job) {
  if (std::exception_ptr error = job.raised_exception()) {
    const ExceptionText text = exception_text(error);
    return absl::StrCat("!! ", job.critical() ? "CRIT. EXC." : "exception", " => ", text.type,
                        ":", text.what, "!!");
  }
  if (job.is_done()) {
    return absl::StrCat("[[ ", job.restored() ? "restored " : "", "-> ", job.format_result(), "]]");
  }
  if (job.is_abandoned()) return "[abandoned: refused to stop]";
  if (job.cancel_called()) return "[cancelled]";
  return "[not done]";
}

ExceptionText exception_text(std::exception_ptr error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& exception) {
    return {unqualified_type_name(typeid(exception)), exception.what()};
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return {type != nullptr ? unqualified_type_name(*type) : "unknown", ""};
  }
}

}  // namespace internal

std::string AbstractJob::repr() const {
  // No scheduler numbering here: requirements show as labels.
  const std::vector<JobPtr> jobs = required();
  const std::string requirements =
      jobs.empty() ? ""
                   : absl::StrCat("requires={",
                                  absl::StrJoin(jobs, ", ",
                                                [](std::string* out, const JobPtr& job) {
                                                  out->append(job->label());
                                                }),
                                  "}");
  return absl::StrCat(internal::badge(*this), " ", internal::job_main(*this), " ",
                      internal::job_result(*this), " ", requirements);
}

}  // namespace asyncjobs
