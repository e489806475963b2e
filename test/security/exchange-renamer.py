"""Racing local process for the write-race test: swaps pairs of paths with
renameat2(RENAME_EXCHANGE) in a loop until SIGTERM, then prints how many swaps it made.
Exits non-zero (loudly) if the call is unavailable or fails for any reason but ENOENT."""
import ctypes
import errno
import os
import signal
import sys

AT_FDCWD = -100
RENAME_EXCHANGE = 2

libc = ctypes.CDLL(None, use_errno=True)
renameat2 = libc.renameat2
renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
renameat2.restype = ctypes.c_int

pairs = [(a.encode(), b.encode()) for a, b in (arg.split(':', 1) for arg in sys.argv[1:])]
if not pairs:
    sys.exit('usage: exchange-renamer.py A:B [C:D ...]')

stop = False


def on_term(_signum, _frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)

# one swap up front proves the call works here before the test relies on it
swaps = 0
for a, b in pairs:
    if renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
        err = ctypes.get_errno()
        sys.exit(f'renameat2({a!r}, {b!r}, RENAME_EXCHANGE) failed: {os.strerror(err)}')
    swaps += 1
print('ready', flush=True)

while not stop:
    for a, b in pairs:
        if renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) != 0:
            err = ctypes.get_errno()
            if err != errno.ENOENT:
                sys.exit(f'renameat2({a!r}, {b!r}, RENAME_EXCHANGE) failed: {os.strerror(err)}')
        else:
            swaps += 1

print(f'swaps {swaps}', flush=True)
