#ifndef CKERNELS_H
#define CKERNELS_H
/*
 * C helpers of NeuralNet for what Swift cannot express: allocator tuning (glibc mallopt).
 */
#include <stddef.h>
#include <stdint.h>

/* Makes the process heap an arena reused from step to step (glibc): no mmap for large blocks, one arena for all
 * threads, and freed memory kept instead of returned to the kernel. Returns 1 when applied, 0 where the C
 * library has no mallopt (then nothing changes). */
int ck_configure_heap_arena(void);

#endif
