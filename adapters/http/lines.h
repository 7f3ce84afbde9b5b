/* Private to adapters/http: the checks shared by what the client sends and what the server
 * answers, so that a caller's text can never forge a header or a second message. */
#ifndef CD_HTTP_LINES_H
#define CD_HTTP_LINES_H

#include <stdbool.h>

/* A token character (RFC 9110, 5.6.2): what a method or a header field's name is made of. */
bool http__token_char(unsigned char ch);

/* Whether h is a sequence of header lines "Name: value\r\n" (possibly none): each name a
 * token, each value text without line breaks or other control characters (tabs allowed).
 * A lone CR or LF anywhere makes it false. */
bool http__lines_valid(const char *h);

/* Whether one of h's lines (valid as above) names field, compared without case. */
bool http__lines_name(const char *h, const char *field);

#endif
