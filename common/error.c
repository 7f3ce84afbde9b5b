#include "common/error.h"

const char *cd_strerror(int code)
{
    switch (-code) {
        case 0:
            return "success";
#define CD__ERRNO_TEXT(name, text) \
    case CD__E_##name:             \
        return text;
            CD_ERRNO_MAP(CD__ERRNO_TEXT)
#undef CD__ERRNO_TEXT
        default:
            return "unknown error";
    }
}

const char *cd_errname(int code)
{
    switch (-code) {
        case 0:
            return "ok";
#define CD__ERRNO_NAME(name, text) \
    case CD__E_##name:             \
        return #name;
            CD_ERRNO_MAP(CD__ERRNO_NAME)
#undef CD__ERRNO_NAME
        default:
            return "UNKNOWN";
    }
}
