// libpq's declarations only. hk does not link libpq: PostgresStore's LibPQ loads it (dlopen)
// when a state LOCATION is PostgreSQL, so every other run starts without it and the twenty-odd
// libraries it needs (Kerberos, LDAP, GnuTLS, ...), and hk runs where libpq is not installed.
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>  // Debian's libpq-dev
#endif
