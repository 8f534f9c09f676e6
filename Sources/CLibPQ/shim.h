// libpq's declarations only. hk does not link libpq: PostgresStore's LibPQ loads it (dlopen)
// when a state LOCATION is PostgreSQL, so every other run starts without it and the twenty-odd
// libraries it needs (Kerberos, LDAP, GnuTLS, ...), and hk runs where libpq is not installed.
// No pkg-config here: SwiftPM would link what `pkg-config --libs libpq` names. So the header is
// looked for where the packages put it.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>  // Fedora, Alpine, Arch: /usr/include
#elif __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>  // Debian's and Ubuntu's libpq-dev
#elif __has_include("/opt/homebrew/opt/libpq/include/libpq-fe.h")
#include "/opt/homebrew/opt/libpq/include/libpq-fe.h"  // Homebrew's libpq, Apple silicon
#else
#include "/usr/local/opt/libpq/include/libpq-fe.h"  // Homebrew's libpq, Intel
#endif
