/* contactctl user: users who sign in to the node's pages (docs/api.md, *Users and browser
 * sessions*). A password is read from the terminal with echo off (twice), or as the first
 * line of standard input when that is not a terminal; never from the command line, where
 * every user of the host could read it (ps). */
#define _DEFAULT_SOURCE /* explicit_bzero() */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ops/contactctl/ctl.h"

#define PASSWORD_BUF 1100 /* the API takes up to 1024 bytes: more is refused there */

static const struct ctl_column users[] = {
    {"NAME", "name", false},
    {"ROLE", "role", false},
    {"AGENT", "agent", false},
    {"SESSIONS", "sessions", false},
    {"UPDATED BY", "updated_by", false},
    {"UPDATED", "updated_at", true},
};

static const struct ctl_column user_fields[] = {
    {"Name", "name", false},
    {"Role", "role", false},
    {"Agent", "agent", false},
    {"Sessions", "sessions", false},
    {"Created", "created_at", true},
    {"Updated", "updated_at", true},
    {"Updated by", "updated_by", false},
};

/* One line from f into buf, without its line end; false at the end of the input or when
 * the line does not fit. */
static bool read_line(FILE *f, char *buf, size_t len)
{
    if (fgets(buf, (int)len, f) == NULL) {
        return false;
    }
    size_t n = strcspn(buf, "\n");
    if (buf[n] != '\n' && !feof(f)) {
        explicit_bzero(buf, len);
        return false;
    }
    buf[n] = 0;
    if (n > 0 && buf[n - 1] == '\r') {
        buf[n - 1] = 0;
    }
    return true;
}

/* Prompts on the terminal with echo off. */
static bool prompt(const char *text, char *buf, size_t len)
{
    struct termios old, quiet;
    fputs(text, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0) {
        return false;
    }
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0) {
        return false;
    }
    bool ok = read_line(stdin, buf, len);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    return ok;
}

/* The new password into buf: asked twice on a terminal, else the first line of stdin. */
static bool read_password(const char *user, char *buf, size_t len)
{
    char again[PASSWORD_BUF], text[128];
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, buf, len)) {
            fprintf(stderr,
                    "contactctl: expected the password (at most 1024 bytes) as the "
                    "first line of standard input\n");
            return false;
        }
        return true;
    }
    snprintf(text, sizeof(text), "Password for %s: ", user);
    bool ok = prompt(text, buf, len) && prompt("Again: ", again, sizeof(again));
    if (ok && strcmp(buf, again) != 0) {
        fprintf(stderr, "contactctl: the two passwords differ\n");
        ok = false;
    }
    explicit_bzero(again, sizeof(again));
    return ok;
}

/* user set NAME --role R [--agent A]: the password from the terminal or stdin. */
static int set(struct ctl *c, int argc, char **argv)
{
    const char *role = ctl_opt(argc, argv, "role");
    const char *agent = ctl_opt(argc, argv, "agent");
    char password[PASSWORD_BUF], path[256], done[300];
    json_t *doc;
    if (argc < 2 || role == NULL || ctl_extra(argc, argv, 2, "user set")) {
        fprintf(stderr,
                "contactctl: user set NAME --role ROLE [--agent A] (the password "
                "from the terminal, or the first line of standard input)\n");
        return CTL_USAGE;
    }
    if (!read_password(argv[1], password, sizeof(password))) {
        explicit_bzero(password, sizeof(password));
        return CTL_USAGE;
    }
    json_t *body = json_pack("{s:s,s:s}", "role", role, "password", password);
    explicit_bzero(password, sizeof(password));
    if (agent != NULL) {
        json_object_set_new(body, "agent", json_string(agent));
    }
    char *text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        fprintf(stderr, "contactctl: the password is not UTF-8 text\n");
        return CTL_USAGE;
    }
    int rv =
        ctl_call(c, "PUT", ctl_path(path, sizeof(path), "/v1/users/%s", argv[1]), text, &doc);
    explicit_bzero(text, strlen(text));
    free(text);
    if (rv == CTL_OK) {
        snprintf(done, sizeof(done), "user %s set (signed out everywhere)", argv[1]);
        if (c->json) {
            ctl_print_json(doc);
        } else {
            printf("%s\n", done);
        }
        json_decref(doc);
    }
    return rv;
}

int ctl_cmd_user(struct ctl *c, int argc, char **argv)
{
    char path[256], done[300];
    if (argc >= 1 && strcmp(argv[0], "set") == 0) {
        return set(c, argc, argv);
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        return ctl_get_show(c, "/v1/users", CTL_COLS(users), true);
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        return ctl_get_show(c, ctl_path(path, sizeof(path), "/v1/users/%s", argv[1]),
                            CTL_COLS(user_fields), false);
    }
    if (argc == 2 && strcmp(argv[0], "delete") == 0) {
        snprintf(done, sizeof(done), "user %s deleted, and every session of it", argv[1]);
        return ctl_change(c, "DELETE", ctl_path(path, sizeof(path), "/v1/users/%s", argv[1]),
                          NULL, done);
    }
    return CTL_USAGE;
}
