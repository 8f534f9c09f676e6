// Transparent huge pages for glibc malloc's heaps, where the kernel grants them on request
// (`/sys/kernel/mm/transparent_hugepage/enabled` reads `[madvise]`, the default of most
// distributions), for the runs that allocate a lot.
//
// `hk plan` over a thousand environments touches 35-60 MiB of fresh heap, one 4 KiB page fault
// at a time (9 000-15 000 faults), and the kernel's side of those faults (allocating, zeroing and
// accounting each page) was about a tenth of the command's CPU time. With MADV_HUGEPAGE on the
// heaps the kernel hands out 2 MiB at a time: 2 000-2 600 faults in all instead, for a few MiB more
// resident memory at each heap's frontier (docs/PERFORMANCE.md, issue 15, seventh round). glibc's
// own switch for this is the tunable `glibc.malloc.hugetlb=1`, which a process cannot set for
// itself once it runs; this does what it does for the two kinds of heap hk allocates from:
// - the main arena's: CStartup's constructor (before main, before any thread) grows it once by a
//   large top pad (hk_malloc_advice_start), and the first thread found allocating there advises
//   that range (hk_malloc_advise_main_arena);
// - a thread arena's: glibc maps each as one 64 MiB heap, all of it read-write at once with hk's
//   64 MiB top pad, and the first thread that asks advises the anonymous mapping holding a block
//   it allocates (hk_malloc_advise_this_thread).
// Operations' Parallel asks on every thread of a large parallel map (many environments), so a
// short command (`hk --help`, a plan of three environments) faults no huge page it would barely
// use. Advice is a hint: where the kernel has no huge page free it falls back to 4 KiB pages, and
// nothing here changes what malloc returns. A process that does not link CStartup never turns it on.
#define _GNU_SOURCE  // MADV_HUGEPAGE
#include "CMallocAdvice.h"

#include <stdlib.h>  // first: it defines __GLIBC__ on glibc systems

#if defined(__GLIBC__) && defined(__linux__)
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int advice_on;
static uintptr_t main_start, main_end;  // the main arena's range grown at start-up
static int main_advised, main_failed;
static __thread int thread_done;

static int thp_on_request(void) {
  int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[128];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  // `[always]` needs no advice (every eligible range gets huge pages), `[never]` ignores it.
  return strstr(buf, "[madvise]") != NULL;
}

int hk_malloc_advice_start(int first_top_pad, int restored_top_pad) {
  if (!thp_on_request()) return 0;
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) return 0;
  if (first_top_pad > 0) mallopt(M_TOP_PAD, first_top_pad);
  char *before = sbrk(0);
  void *block = malloc(1 << 20);  // more than the young heap's top: the arena grows (by the pad)
  __asm__ volatile("" : : "r"(block) : "memory");  // kept: a malloc whose block goes unused may be elided
  char *after = sbrk(0);
  free(block);
  if (first_top_pad > 0) mallopt(M_TOP_PAD, restored_top_pad);
  advice_on = 1;
  if (before == (char *)-1 || after == (char *)-1 || after <= before) return 1;  // heap not grown by brk
  uintptr_t mask = ~(uintptr_t)(page - 1);
  uintptr_t start = ((uintptr_t)before + (uintptr_t)page - 1) & mask;
  uintptr_t end = (uintptr_t)after & mask;
  if (end > start) {
    main_start = start;
    main_end = end;
  }
  return 1;
}

const void *hk_malloc_advise_main_arena(void) {
  if (!advice_on || main_start == 0) return NULL;
  if (__atomic_exchange_n(&main_advised, 1, __ATOMIC_ACQ_REL) == 0) {
    if (madvise((void *)main_start, main_end - main_start, MADV_HUGEPAGE) != 0) {
      __atomic_store_n(&main_failed, 1, __ATOMIC_RELEASE);
    }
  }
  return __atomic_load_n(&main_failed, __ATOMIC_ACQUIRE) ? NULL : (const void *)main_start;
}

int hk_malloc_advice_on(void) { return advice_on; }

// A line of /proc/self/maps: "start-end perms offset dev inode [name]". 0 when it is not one.
static int parse_mapping(const char *line, uintptr_t *start, uintptr_t *end, char perms[5], const char **name) {
  unsigned long s, e, inode;
  int at = 0;
  if (sscanf(line, "%lx-%lx %4s %*s %*s %lu %n", &s, &e, perms, &inode, &at) < 4 || at <= 0) return 0;
  *start = s;
  *end = e;
  *name = line + at;
  return inode == 0 ? 1 : 2;  // 1: not backed by a file
}

// Calls `found` with the line of /proc/self/maps (or smaps) whose range holds `address`; lines
// longer than the buffer are skipped whole. Returns what `found` returned, -1 when no line held it.
static int with_mapping(const char *file, uintptr_t address, int (*found)(FILE *, const char *, uintptr_t, uintptr_t, const char *, const char *)) {
  FILE *f = fopen(file, "re");
  if (f == NULL) return -1;
  char line[512];
  int result = -1;
  int whole = 1;  // the previous read ended its line
  while (fgets(line, sizeof line, f) != NULL) {
    int starts = whole;
    whole = strchr(line, '\n') != NULL;
    if (!starts) continue;
    uintptr_t start, end;
    char perms[5];
    const char *name;
    int kind = parse_mapping(line, &start, &end, perms, &name);
    if (kind == 0 || address < start || address >= end) continue;
    result = kind == 1 ? found(f, line, start, end, perms, name) : 0;
    break;
  }
  fclose(f);
  return result;
}

static int unnamed(const char *name) {
  return name[0] == '\0' || name[0] == '\n' || strncmp(name, "[anon:", 6) == 0;
}

static int advise(FILE *f, const char *line, uintptr_t start, uintptr_t end, const char *perms, const char *name) {
  (void)f;
  (void)line;
  // An anonymous private read-write mapping, no larger than a few heaps: glibc's heap for an arena
  // (or the main arena's, `[heap]`, where it grew past the range advised from start-up).
  int heap = unnamed(name) || strncmp(name, "[heap]", 6) == 0;
  if (strcmp(perms, "rw-p") != 0 || !heap || end - start > ((uintptr_t)1 << 30)) return 0;
  return madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
}

const void *hk_malloc_advise_this_thread(void) {
  if (!advice_on || thread_done) return NULL;
  thread_done = 1;
  // Larger than most free chunks: carved from the top of the arena's newest heap, where the
  // thread's next allocations come from (and above tcache's sizes: from the arena itself).
  void *block = malloc(256 << 10);
  __asm__ volatile("" : : "r"(block) : "memory");
  if (block == NULL) return NULL;
  uintptr_t a = (uintptr_t)block;
  const void *advised;
  if (a >= main_start && a < main_end) {
    advised = hk_malloc_advise_main_arena();
  } else {
    advised = with_mapping("/proc/self/maps", a, advise) == 1 ? (const void *)a : NULL;
  }
  free(block);
  return advised;
}

int hk_malloc_this_thread_asked(void) { return thread_done; }

static int carries_advice(FILE *f, const char *line, uintptr_t start, uintptr_t end, const char *perms, const char *name) {
  (void)line, (void)start, (void)end, (void)perms, (void)name;
  char text[512];
  while (fgets(text, sizeof text, f) != NULL) {
    if (strncmp(text, "VmFlags:", 8) == 0) return strstr(text, " hg") != NULL;
  }
  return -1;
}

int hk_malloc_advised(const void *address) {
  int r = with_mapping("/proc/self/smaps", (uintptr_t)address, carries_advice);
  return r < 0 ? -1 : r;
}
#else
int hk_malloc_advice_start(int first_top_pad, int restored_top_pad) {
  (void)first_top_pad, (void)restored_top_pad;
  return 0;
}

const void *hk_malloc_advise_this_thread(void) { return NULL; }

int hk_malloc_this_thread_asked(void) { return 0; }

int hk_malloc_advice_on(void) { return 0; }

const void *hk_malloc_advise_main_arena(void) { return NULL; }

int hk_malloc_advised(const void *address) {
  (void)address;
  return -1;
}
#endif
