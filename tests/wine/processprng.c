/* bcryptprimitives.dll for Wine 8.0, which lacks ProcessPrng: Rust's
 * standard library (1.78 and later) imports it to seed its hash maps, so
 * without it no Rust program starts. Forwards to BCryptGenRandom. Built
 * with mingw by the test harness (tests/src/wine.rs) into the prefix's
 * system32. Not shipped: real Windows 10 and later have ProcessPrng. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
