#ifndef ASYNCJOBS_INTERNAL_FIBER_JUMP_H_
#define ASYNCJOBS_INTERNAL_FIBER_JUMP_H_

// The one stack switch: Boost.Context's jump_fcontext, entered without a `call` on x86-64.
//
// jump_fcontext leaves by an indirect `jmp`, never by `ret`. Called with `call`, each switch
// would push one entry on the CPU's return-stack predictor that no `ret` pops, and every
// return the landing fiber then makes (out of the switch, the reactor, the blocking call)
// would be predicted one frame off: four or five mispredicted returns per hand-over, most of
// a yield's cost (docs/fibers.md, trap 7). Pushing the return address and jumping keeps the
// predictor aligned. (Not for hardware shadow stacks, CET: neither is Debian's fcontext.)

#include <boost/context/detail/fcontext.hpp>

namespace asyncjobs::internal {

namespace fcontext = boost::context::detail;

#if defined(__x86_64__)
inline fcontext::transfer_t jump(fcontext::fcontext_t to, void* data) {
  // rdi/rsi in, rax/rdx out as for the call; jump_fcontext keeps rbx, rbp, r12-r15, the
  // MXCSR and the x87 control word; everything else a call may clobber is clobbered. The
  // 128 bytes step over the red zone, which this function may use as if it were a leaf.
  void* from;
  void* data_out;
  asm volatile(
      "subq $128, %%rsp\n\t"
      "leaq 1f(%%rip), %%rcx\n\t"
      "pushq %%rcx\n\t"
      "jmp jump_fcontext@PLT\n"
      "1:\n\t"
      "addq $128, %%rsp"
      : "=a"(from), "=d"(data_out), "+D"(to), "+S"(data)
      :
      : "rcx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3",
        "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
        "xmm14", "xmm15", "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)");
  return {from, data_out};
}
#else
inline fcontext::transfer_t jump(fcontext::fcontext_t to, void* data) {
  return fcontext::jump_fcontext(to, data);
}
#endif

}  // namespace asyncjobs::internal

#endif  // ASYNCJOBS_INTERNAL_FIBER_JUMP_H_
