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

/* cpuid leaf 7 subleaf 0 EBX bit 16: AVX512F; XCR0 bits 5, 6, 7: opmask, upper ZMM halves, ZMM16-31. */
int ck_cpu_has_avx512f(void) {
    unsigned a, b, c, d;
    if (!os_saves_ymm()) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xe0u) != 0xe0u) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 16) & 1u;
}
#else
int ck_cpu_has_avx2_fma(void) { return 0; }
int ck_cpu_has_avx512f(void) { return 0; }
#endif
