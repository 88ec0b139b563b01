/*
 * bcryptprimitives.dll for Wine 8: exports ProcessPrng, which Rust's std (1.78 and
 * later) imports to seed HashMap and friends. Wine 8 has no such DLL, so every Rust
 * program exits with status 53 before main. This shim forwards to RtlGenRandom
 * (SystemFunction036 in advapi32), which Wine does have.
 *
 * Test-only: built and put on WINEPATH by scripts/windows-tier.sh; never shipped.
 */
#include <windows.h>

/* RtlGenRandom's real export name; ntsecapi.h only declares it behind a macro. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    /* RtlGenRandom takes a 32-bit length; ProcessPrng a pointer-sized one. */
    while (size > 0) {
        ULONG chunk = size > 0x7fffffff ? 0x7fffffff : (ULONG)size;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        size -= chunk;
    }
    return TRUE;
}
