#include "CKernels.h"

/* AddressSanitizer and ThreadSanitizer replace malloc with their own allocator: glibc's mallopt settings do not
 * reach it (ThreadSanitizer's mallopt even reports success), so the arena is never in effect there. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CK_SANITIZER_ALLOCATOR 1
#endif
#endif

#if defined(__GLIBC__) && !defined(CK_SANITIZER_ALLOCATOR)
#include <limits.h>
#include <malloc.h>

int ck_configure_heap_arena(void) {
    int ok = 1;
    /* Large blocks from the heap rather than mmap: an mmap'd block is unmapped on free and every page of it
     * faults again when the next step allocates the same tensor. */
    ok &= mallopt(M_MMAP_MAX, 0);
    /* Never give the heap's top back to the kernel, and grow it 64 MiB at a time. */
    ok &= mallopt(M_TRIM_THRESHOLD, INT_MAX);
    ok &= mallopt(M_TOP_PAD, 64 << 20);
    /* One arena: other threads' arenas are mmap'd heaps that fall back to mmap for blocks above 64 MiB. */
    ok &= mallopt(M_ARENA_MAX, 1);
    return ok;
}
#else
int ck_configure_heap_arena(void) { return 0; }
#endif
