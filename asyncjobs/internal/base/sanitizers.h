#ifndef ASYNCJOBS_INTERNAL_BASE_SANITIZERS_H_
#define ASYNCJOBS_INTERNAL_BASE_SANITIZERS_H_

// ASYNCJOBS_ASAN / ASYNCJOBS_TSAN: 1 when built with AddressSanitizer / ThreadSanitizer
// (g++ and clang spell it differently), else 0. Fiber switches then carry the sanitizers'
// annotations (internal/fiber/switch_annotations.h), and the memory pools step aside so that
// ASan sees every allocation.
#if defined(__SANITIZE_ADDRESS__)
#define ASYNCJOBS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASYNCJOBS_ASAN 1
#endif
#endif
#ifndef ASYNCJOBS_ASAN
#define ASYNCJOBS_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define ASYNCJOBS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ASYNCJOBS_TSAN 1
#endif
#endif
#ifndef ASYNCJOBS_TSAN
#define ASYNCJOBS_TSAN 0
#endif

#endif  // ASYNCJOBS_INTERNAL_BASE_SANITIZERS_H_
