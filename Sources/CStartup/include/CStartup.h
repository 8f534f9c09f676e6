#ifndef HK_CSTARTUP_H
#define HK_CSTARTUP_H

/// 1 when hk's malloc settings were applied at start-up (see startup.c), 0 when glibc's
/// defaults were kept (HK_MALLOC_DEFAULTS=1).
int hk_malloc_settings_applied(void);

/// 1 when every thread shares glibc's main arena: the settings were applied and the process's
/// affinity mask held one CPU at start-up.
int hk_malloc_one_arena(void);

/// The bytes allocated from glibc's main arena and not yet freed (mallinfo2's uordblks); 0 where
/// the C library is not glibc. For the tests: with the settings applied every thread allocates there.
unsigned long hk_main_arena_bytes_in_use(void);

#endif
