# file: src/RTC/DtlsTransport.cpp
# expect: const long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;
s/const long resultOfcallback = (operationType == BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/const long resultOfcallback = (operationType \& BIO_CB_RETURN) ? static_cast<long>(ret) : 1;/
