# file: src/handles/UnixStreamSocketHandle.cpp
# expect: if (socket && status != 0)
# Coalesced channel writes (see README.md here): once the pipe to Node is full, every later
# message is appended to one buffer that goes out in the next write, instead of one uv_write()
# request per message (which libuv < 1.45 drains at one request per loop turn).
s|^\tif (socket \&\& status != 0)$|\tif (socket)|
s|^\t\tsocket->OnUvWriteError(status);$|\t\tsocket->OnUvWriteDone(status);|
s|^\t// Just notify the UnixStreamSocketHandle when error.$|\t// mutegate: tell the UnixStreamSocketHandle when a write ends (it sends what waited meanwhile).|
/^\t\/\/ First try uv_try_write()\. In case it can not directly send all the given data$/i\
\t// mutegate: a write is in flight, so libuv's queue is not empty: append (see OnUvWriteDone).\
\tif (this->writeInFlight)\
\t{\
\t\tthis->pendingWrite.insert(this->pendingWrite.end(), data, data + len);\
\
\t\treturn;\
\t}\

/^\t  static_cast<uv_write_cb>(onWrite));$/a\
\
\tthis->writeInFlight = (err == 0);
/^\tthis->closed = true;$/i\
\t// mutegate: hand what is still coalesced to libuv, so that uv_shutdown() flushes it too.\
\tif (this->role == UnixStreamSocketHandle::Role::PRODUCER \&\& !this->pendingWrite.empty() \&\& !this->hasError \&\& !this->isClosedByPeer)\
\t{\
\t\tFlushPendingWrite();\
\t}\

$a\
\
// mutegate (scripts/worker-patches/0004): a write ended. On success, what was coalesced while it\
// was in flight goes out in one uv_write(), so the pipe to Node drains as fast as Node reads it\
// whatever libuv writes per loop turn, and a reply never waits behind one write per notification.\
void UnixStreamSocketHandle::OnUvWriteDone(int status)\
{\
\tthis->writeInFlight = false;\
\
\tif (status != 0)\
\t{\
\t\tOnUvWriteError(status);\
\
\t\treturn;\
\t}\
\
\tif (!this->closed \&\& !this->pendingWrite.empty())\
\t{\
\t\tFlushPendingWrite();\
\t}\
}\
\
void UnixStreamSocketHandle::FlushPendingWrite()\
{\
\tconst size_t len = this->pendingWrite.size();\
\tauto* writeData  = new UvWriteData(len);\
\
\twriteData->req.data = static_cast<void*>(writeData);\
\tstd::memcpy(writeData->store, this->pendingWrite.data(), len);\
\tthis->pendingWrite.clear();\
\
\tuv_buf_t buffer = uv_buf_init(reinterpret_cast<char*>(writeData->store), len);\
\
\tconst int err = uv_write(\
\t  \&writeData->req,\
\t  reinterpret_cast<uv_stream_t*>(this->uvHandle),\
\t  \&buffer,\
\t  1,\
\t  static_cast<uv_write_cb>(onWrite));\
\
\tif (err != 0)\
\t{\
\t\tMS_ERROR_STD("uv_write() failed: %s", uv_strerror(err));\
\
\t\tdelete writeData;\
\
\t\treturn;\
\t}\
\
\tthis->writeInFlight = true;\
}
