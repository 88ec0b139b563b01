/*
 * __fprintf_chk for a static musl link. Debian's libunwind.a (libunwind-14-dev), which
 * Rust's musl target links, was compiled against glibc with _FORTIFY_SOURCE and so calls
 * glibc's checked fprintf; musl has none. This forwards to plain vfprintf (the check
 * only guards %n in writable formats, which libunwind's debug messages never use).
 *
 * Built with musl-gcc and linked in by scripts/musl/static-gcc; see
 * the "static Linux binary" part of scripts/dist.sh.
 */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
    va_list ap;
    int n;
    (void)flag;
    va_start(ap, fmt);
    n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}
