# file: src/RTC/PlainTransport.cpp
# expect: else if (RTC::SctpAssociation::IsSctp(data, len))
s/else if (RTC::SctpAssociation::IsSctp(data, len))/else if (this->sctpAssociation \&\& RTC::SctpAssociation::IsSctp(data, len))/
