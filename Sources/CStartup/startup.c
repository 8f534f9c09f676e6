// glibc malloc settings for hk's process, made before main() runs: before any thread exists.
//
// hk builds millions of small tree nodes and strings and frees few of them before it exits
// (Operations' KeepUntilExit). glibc's defaults suit long-lived servers instead:
// - a thread other than the main one allocates from an arena of its own, and such an arena
//   grows by as few pages as each allocation needs, one mprotect call each time: ≈ 10 000 calls
//   in one `hk plan` over a thousand environments. All of hk's work runs on Swift concurrency's
//   threads (an async main parks the main thread), never the main one;
// - the main arena grows by 128 KiB at a time and gives memory back as soon as 128 KiB at its
//   top are free, only to ask for it again;
// - blocks of 128 KiB and more are mapped and unmapped one by one until the first is freed.
//
// So, when the process may run on one CPU only (its affinity mask: `taskset -c 0`, a one-vCPU
// runner), every thread shares the main arena: hk then works on one thread anyway. With more CPUs
// hk's worker threads allocate at once, and one arena's lock made them take turns (1.45× the CPU,
// 1.7× the wall time of `hk plan` on two CPUs): each keeps an arena of its own. The main arena
// grows 64 MiB at a time (address space: the pages are paid
// for only when touched) and keeps what it has; blocks up to 32 MiB (glibc's own ceiling for its
// rising threshold) come from it. This has to run before main: Swift's runtime starts threads
// before an async main's first statement, and a thread keeps the arena it first allocated from.
//
// HK_MALLOC_DEFAULTS=1 keeps glibc's defaults (to compare); a setting named in GLIBC_TUNABLES is
// left as the user set it.
#define _GNU_SOURCE  // sched_getaffinity, CPU_COUNT
#include "CStartup.h"

#include "CMallocAdvice.h"

#include <sched.h>
#include <stdlib.h>  // first: it defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#include <string.h>

static int applied;
static int one_arena;

static int one_cpu(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  return CPU_COUNT(&set) == 1;
}

static int tuned(const char *tunables, const char *name) {
  return tunables != NULL && strstr(tunables, name) != NULL;
}

__attribute__((constructor)) static void hk_configure_malloc(void) {
  const char *defaults = getenv("HK_MALLOC_DEFAULTS");
  if (defaults != NULL && strcmp(defaults, "1") == 0) return;
  const char *tunables = getenv("GLIBC_TUNABLES");
  if (!tuned(tunables, "glibc.malloc.arena_max") && one_cpu()) {
    mallopt(M_ARENA_MAX, 1);
    one_arena = 1;
  }
  const int top_pad = 64 << 20;
  int pad = !tuned(tunables, "glibc.malloc.top_pad");
  if (pad) mallopt(M_TOP_PAD, top_pad);
  if (!tuned(tunables, "glibc.malloc.trim_threshold")) mallopt(M_TRIM_THRESHOLD, 256 << 20);
  if (!tuned(tunables, "glibc.malloc.mmap_threshold")) mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Huge pages for the heaps of large runs (Sources/CMallocAdvice): the main arena first grows by
  // 192 MiB of address space, what a one-CPU `hk plan` over a thousand environments uses with
  // room to spare, advised at once when a large map starts (glibc's own hugetlb tunable, when
  // set, does it instead).
  if (!tuned(tunables, "glibc.malloc.hugetlb")) hk_malloc_advice_start(pad ? 192 << 20 : 0, top_pad);
  applied = 1;
}

int hk_malloc_settings_applied(void) { return applied; }

int hk_malloc_one_arena(void) { return one_arena; }

unsigned long hk_main_arena_bytes_in_use(void) { return (unsigned long)mallinfo2().uordblks; }
#else
int hk_malloc_settings_applied(void) { return 0; }

int hk_malloc_one_arena(void) { return 0; }

unsigned long hk_main_arena_bytes_in_use(void) { return 0; }
#endif
