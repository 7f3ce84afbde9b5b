/* adapters/http: header lines a caller adds to a request or an answer (lines.h). */
#include <string.h>
#include <strings.h>

#include "adapters/http/lines.h"

bool http__token_char(unsigned char ch)
{
    bool alnum =
        (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    return alnum || (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

bool http__lines_valid(const char *h)
{
    while (*h != '\0') {
        const char *colon = strchr(h, ':'), *end = strstr(h, "\r\n");
        if (colon == NULL || end == NULL || colon > end || colon == h) {
            return false;
        }
        for (const char *p = h; p < colon; p++) {
            if (!http__token_char((unsigned char)*p)) {
                return false;
            }
        }
        for (const char *p = colon + 1; p < end; p++) {
            unsigned char ch = (unsigned char)*p;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
                return false;
            }
        }
        h = end + 2;
    }
    return true;
}

bool http__lines_name(const char *h, const char *field)
{
    size_t len = strlen(field);
    for (; *h != '\0'; h = strstr(h, "\r\n") + 2) {
        if (strncasecmp(h, field, len) == 0 && h[len] == ':') {
            return true;
        }
    }
    return false;
}
