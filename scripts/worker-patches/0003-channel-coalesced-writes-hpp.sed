# file: include/handles/UnixStreamSocketHandle.hpp
# expect: /* Callbacks fired by UV events. */
# The declarations for 0004 (coalesced channel writes, see README.md here).
s|^#include <string>$|#include <string>\n#include <vector>|
s|/\* Callbacks fired by UV events. \*/|/* Callbacks fired by UV events (mutegate: and the end of a write, see OnUvWriteDone). */|
s|^\tvoid OnUvWriteError(int error);$|\tvoid OnUvWriteError(int error);\n\tvoid OnUvWriteDone(int status);|
s|^\tbool hasError{ false };$|\tbool hasError{ false };\n\t// mutegate: while one uv_write() is in flight, later messages wait here and go out together.\n\tbool writeInFlight{ false };\n\tstd::vector<uint8_t> pendingWrite;\n\tvoid FlushPendingWrite();|
