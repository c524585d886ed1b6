#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

/* XCR0 bits 1 and 2: the operating system saves the SSE and AVX (YMM) state. */
static int os_saves_ymm(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 0x6u) == 0x6u;
}

int ck_cpu_has_avx2_fma(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 12))) return 0; /* ECX bit 12: FMA */
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 5))) return 0; /* EBX bit 5: AVX2 */
    return os_saves_ymm();
}
#else
int ck_cpu_has_avx2_fma(void) { return 0; }
#endif
