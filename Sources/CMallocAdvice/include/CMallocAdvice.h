#ifndef HK_CMALLOCADVICE_H
#define HK_CMALLOCADVICE_H

/// Transparent huge pages for glibc malloc's heaps (see malloc_advice.c).

/// Turns the advice on and grows the main arena's heap by `first_top_pad` bytes of address space
/// (the range hk_malloc_advise_main_arena advises): called once by CStartup's constructor, before
/// main, after its malloc settings. Returns 1 when the advice is on: glibc, and the kernel's THP
/// mode is `madvise`.
int hk_malloc_advice_start(int first_top_pad, int restored_top_pad);

/// Advises the main arena's range grown at start-up (once; later calls do nothing). Returns its
/// first byte when it carries the advice, NULL when the advice is off or failed.
const void *hk_malloc_advise_main_arena(void);

/// Gives the advice to the heap of the arena the calling thread allocates from, once per thread
/// (the main arena's through hk_malloc_advise_main_arena): hk's large parallel maps call it first
/// on every thread they run on. Does nothing until
/// hk_malloc_advice_start turned the advice on (in a process that does not link CStartup).
/// Returns the address of the block it probed the heap with when this call advised the mapping
/// holding it (the block is freed; the mapping stays), the main arena's range when the block lay
/// there, NULL otherwise.
const void *hk_malloc_advise_this_thread(void);

/// 1 when the calling thread has called hk_malloc_advise_this_thread (while the advice was on).
int hk_malloc_this_thread_asked(void);

/// 1 when the advice is on (hk_malloc_advice_start).
int hk_malloc_advice_on(void);

/// 1 when the anonymous mapping holding `address` carries MADV_HUGEPAGE ("hg" among its VmFlags
/// in /proc/self/smaps); 0 when it does not, -1 when it cannot be told. For the tests.
int hk_malloc_advised(const void *address);

#endif
