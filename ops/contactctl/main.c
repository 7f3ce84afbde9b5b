/* contactctl: operate a contactd cluster through the HTTP API of any of its nodes.
 * `contactctl --help` lists the commands; ops/contactctl/README is not needed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"
#include "ops/contactctl/http_blocking.h"

int ctl_usage(void)
{
    fprintf(
        stderr,
        "usage: contactctl [--endpoints ENDPOINT,...] [--cacert FILE] [--token-file FILE]\n"
        "                  [--output table|json] COMMAND\n"
        "\n"
        "Endpoints: --endpoints (or --node), else $CONTACTD_ENDPOINTS, else 127.0.0.1:8080.\n"
        "An endpoint is https://HOST:PORT (TLS), http://HOST:PORT (plain HTTP) or\n"
        "HOST:PORT: TLS when a CA file is given, plain HTTP otherwise.\n"
        "TLS: version 1.2 or later; the node's certificate must chain to a CA in\n"
        "--cacert FILE (PEM), else $CONTACTD_CACERT, else the system's trust store, and\n"
        "name the endpoint's host name or IP address.\n"
        "Token: sent on every request as \"Authorization: Bearer TOKEN\"; --token-file\n"
        "FILE (its first line) or --token TOKEN, else $CONTACTD_TOKEN, else\n"
        "$CONTACTD_TOKEN_FILE. A token on the command line is visible to every user of\n"
        "the host (ps): prefer the file.\n"
        "\n"
        "A node that cannot be reached, whose certificate fails the checks, or that\n"
        "has no leader, is passed over for the next; a change a node may have made (it\n"
        "took the request and did not answer, or answered 503) is not sent again: check,\n"
        "then run it again (contact create is safe: it carries a key).\n"
        "\n"
        "cluster:\n"
        "  status                              each member's role, term, applied index and "
        "lag\n"
        "  member list | add ID RAFT API PEER | remove ID\n"
        "  leader transfer [ID]\n"
        "routing model:\n"
        "  model validate FILE                 check a model; changes nothing\n"
        "  model diff FILE                     what FILE would change\n"
        "  model apply FILE [--comment C]\n"
        "  model history                       installed versions, newest first: who, when, "
        "why\n"
        "  model show [VERSION]                a version's text (default: running)\n"
        "  model rollback VERSION [--comment C]\n"
        "  model save NAME FILE [--comment C]  keep a model by name, for a runbook to install\n"
        "  model saved [NAME]                  the saved models, or one's text\n"
        "  model forget NAME                   (refused while a runbook names it)\n"
        "audit:\n"
        "  audit [--actor A] [--action X] [--object O] [--from MS] [--to MS] [--limit N]\n"
        "        [--before ID]                 who changed what and when, newest first\n"
        "queues and agents:\n"
        "  queue list | show NAME | pause NAME | resume NAME\n"
        "  agent list | show ID | login ID | logout ID | delete ID\n"
        "  agent state ID available|away [--reason R]\n"
        "  agent put ID [--site S] [--skill NAME=LEVEL]... [--capacity CH=N]... [--queue "
        "Q]...\n"
        "  agent skills ID NAME=LEVEL...\n"
        "contacts and offers:\n"
        "  contact create --channel CH [--key K] [--queue Q] [--priority P] [--attr K=V]...\n"
        "  contact list [--state S] [--queue Q] [--agent A] [--channel CH] [--min-age-ms N]\n"
        "               [--limit N]\n"
        "  contact show ID | explain ID | abandon ID | end ID | wrapup-done ID\n"
        "  contact callback ID                 the caller takes a callback and hangs up\n"
        "  contact hold ID | resume ID         the agent puts the customer on hold and back\n"
        "  contact transfer ID --queue Q | --agent A | --target URI\n"
        "  contact attrs ID K=V...             (K= removes K)\n"
        "  contact session ID --home MEMBER [--key K]   the customer is now connected there\n"
        "  contact session-end ID              the customer's live connection ended\n"
        "  offer accept|reject OFFER AGENT\n"
        "  history [--from MS] [--to MS] [--limit N] [--key K] [--attr K=V]\n"
        "                                      finished contacts (by key or attribute:\n"
        "                                      newest first)\n"
        "reports:\n"
        "  report [--period P | --from T --to T] [--interval "
        "5m|15m|30m|60m|day|week|month|total]\n"
        "         [--group queue|agent|channel|site|disposition|none] [--queue Q] [--agent A]\n"
        "         [--channel CH] [--figures F,...] [--csv | --html | --pdf FILE]\n"
        "                                      figures (docs/reports.md); P: today, "
        "yesterday,\n"
        "                                      this_week, last_week, this_month, last_month,\n"
        "                                      last_5m, last_15m, last_60m, last_24h, "
        "last_7d,\n"
        "                                      last_30d; T: ms, 2026-12-07T09:00:00Z or local\n"
        "                                      2026-12-07[T09:00]; --html: a page with\n"
        "                                      charts and the glossary; --pdf: that page\n"
        "                                      printed by the node, into FILE (-: stdout)\n"
        "  report contacts --value GROUP [--start MS] [--figure F] (report options)\n"
        "                                      the contacts one cell counts\n"
        "  report live [--queue Q]             service level over the last 5, 15, 60 minutes\n"
        "  reportdef list | show NAME [--version N] | history NAME\n"
        "  reportdef diff NAME [--from N] [--to M]   what changed between two versions\n"
        "  reportdef validate FILE             check a definition (JSON, docs/api.md)\n"
        "  reportdef put NAME FILE [--comment C] [--expect VERSION]\n"
        "  reportdef rollback NAME VERSION [--comment C] | delete NAME\n"
        "  reportdef deliveries NAME           its scheduled deliveries and how each went\n"
        "  events [--after ID|now] [--follow] [--agent A] [--contact ID] [--kind K,...]\n"
        "health and faults (docs/continuity.md):\n"
        "  health                              the cluster's signals, this node's own, the\n"
        "                                      open faults (answers without a leader too)\n"
        "  fault list [--state open|closed|all] | show ID   show: with its log\n"
        "  fault ack ID [--note TEXT]          someone on call has it\n"
        "  fault note ID TEXT                  what was done, into its log\n"
        "  fault close ID [--note TEXT]        closed by hand\n"
        "  drill crash --node ID | kill-leader | pause --node ID --seconds N\n"
        "        | isolate --node ID --seconds N\n"
        "        | slow-disk --node ID --seconds N [--delay-ms D]\n"
        "        | disk-full --node ID --seconds N [--leave-mb M]\n"
        "        [--watch S] [--queue Q] [--channel C] [--probe-ms MS]\n"
        "        [--max-unavailable-ms MS] [--report FILE] [--dry-run]\n"
        "                                      a failure rehearsed on the live cluster (the\n"
        "                                      node's file must say drills: true), probed\n"
        "                                      like a client; prints the drill's report and\n"
        "                                      keeps it in the cluster\n"
        "  drill reports | report ID           the drill reports kept\n"
        "runbooks (docs/continuity.md):\n"
        "  runbook list                        each runbook's trigger, actions, options and\n"
        "                                      state now\n"
        "  runbook show NAME                   one runbook, with its latest runs\n"
        "  runbook runs [--state open|ended|all]   runs, newest first\n"
        "  runbook run-show ID                 a run, its steps and what each did\n"
        "  runbook run NAME                    run it now, whatever the signals say (admin)\n"
        "  runbook approve ID                  let a run that waits for approval act\n"
        "  runbook end ID [--note TEXT]        end a run by hand (undone if its runbook\n"
        "                                      reverts)\n"
        "  runbook simulate SIGNAL=ok|warn|bad[:SECONDS]... "
        "fault:KIND=minor|major[:SECONDS]...\n"
        "                                      which runbooks those signals (or faults),\n"
        "                                      held that long, would run, and what they\n"
        "                                      would do; changes nothing\n"
        "webhooks:\n"
        "  webhook add URL --secret S --kinds K,K...   deliver those events to URL\n"
        "  webhook list | show ID | delete ID  show: with its latest delivery attempts\n"
        "tokens (admin):\n"
        "  token create NAME --role admin|supervisor|agent|reporter|integration\n"
        "        [--agent A] [--expires-at MS]   prints the new token, once\n"
        "  token list | revoke ID               revoked on every node at one log index\n"
        "  whoami                              the principal of the token in use\n"
        "personal data (admin):\n"
        "  privacy export --attr KEY=VALUE     what is held about one customer\n"
        "  privacy erase --attr KEY=VALUE      erased from every live contact, on every node\n"
        "users (admin): people who sign in to the node's pages\n"
        "  user set NAME --role ROLE [--agent A]   make or change a user; the password\n"
        "        from the terminal (asked twice, not shown), or the first line of stdin;\n"
        "        signs the user out everywhere\n"
        "  user list | show NAME | delete NAME\n"
        "\n"
        "Exit status: 0 done, 1 the cluster refused (the error is printed, as for a 401\n"
        "or 403), 2 bad command line (or an unreadable CA or token file), 3 no node\n"
        "answered or none had a leader.\n");
    return CTL_USAGE;
}

static int set_endpoints(struct ctl *c, const char *list)
{
    char buf[CTL_ENDPOINTS_MAX * CTL_ADDR_MAX], *save;
    snprintf(buf, sizeof(buf), "%s", list);
    c->n_endpoints = 0;
    for (char *e = strtok_r(buf, ",", &save); e != NULL; e = strtok_r(NULL, ",", &save)) {
        char *hostport = strncmp(e, "https://", 8) == 0  ? e + 8
                         : strncmp(e, "http://", 7) == 0 ? e + 7
                                                         : e;
        bool other_scheme = strstr(hostport, "://") != NULL;
        if (!other_scheme) {
            hostport[strcspn(hostport, "/")] = 0; /* a path, as in a URL from a browser */
        }
        if (c->n_endpoints == CTL_ENDPOINTS_MAX || other_scheme || *hostport == 0 ||
            strchr(hostport, ':') == NULL) {
            fprintf(stderr,
                    "contactctl: endpoint '%s': expected [https://|http://]HOST:PORT (at most "
                    "%d)\n",
                    e, CTL_ENDPOINTS_MAX);
            return CTL_USAGE;
        }
        snprintf(c->endpoints[c->n_endpoints++], CTL_ADDR_MAX, "%s", e);
    }
    return c->n_endpoints > 0 ? CTL_OK : CTL_USAGE;
}

/* How to reach the nodes, from the command line; NULL: not given there. */
struct reach
{
    const char *cacert;
    const char *token;
    const char *token_file;
};

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != 0 ? v : NULL;
}

/* The first line of the file at path, trailing whitespace stripped (free()), or NULL
 * (said). */
static char *read_token(const char *path)
{
    char *text = ctl_read_file(path);
    if (text == NULL) {
        return NULL;
    }
    size_t n = strcspn(text, "\n");
    while (n > 0 && isspace((unsigned char)text[n - 1])) {
        n--;
    }
    text[n] = 0;
    if (n == 0) {
        fprintf(stderr, "contactctl: token file '%s': the first line is empty\n", path);
        free(text);
        return NULL;
    }
    return text;
}

/* Sets c->http from the command line, else the environment. */
static int open_http(struct ctl *c, const struct reach *r)
{
    char err[512], *from_file = NULL;
    const char *cacert = r->cacert != NULL ? r->cacert : env("CONTACTD_CACERT");
    const char *token = r->token, *token_file = r->token_file;
    if (token == NULL && token_file == NULL) {
        token = env("CONTACTD_TOKEN");
        token_file = token == NULL ? env("CONTACTD_TOKEN_FILE") : NULL;
    }
    if (token == NULL && token_file != NULL &&
        (token = from_file = read_token(token_file)) == NULL) {
        return CTL_USAGE;
    }
    int rv = hb_client_new(cacert, token, &c->http, err, sizeof(err));
    free(from_file);
    if (rv != 0) {
        fprintf(stderr, "contactctl: %s\n", err);
        return CTL_USAGE;
    }
    return CTL_OK;
}

struct group
{
    const char *name;
    int (*run)(struct ctl *c, int argc, char **argv);
};

static const struct group groups[] = {
    {"status", ctl_cmd_status}, {"member", ctl_cmd_member},   {"leader", ctl_cmd_leader},
    {"model", ctl_cmd_model},   {"audit", ctl_cmd_audit},     {"queue", ctl_cmd_queue},
    {"agent", ctl_cmd_agent},   {"contact", ctl_cmd_contact}, {"offer", ctl_cmd_offer},
    {"events", ctl_cmd_events}, {"history", ctl_cmd_history}, {"webhook", ctl_cmd_webhook},
    {"token", ctl_cmd_token},   {"whoami", ctl_cmd_whoami},   {"privacy", ctl_cmd_privacy},
    {"user", ctl_cmd_user},     {"report", ctl_cmd_report},   {"reportdef", ctl_cmd_reportdef},
    {"health", ctl_cmd_health}, {"fault", ctl_cmd_fault},     {"runbook", ctl_cmd_runbook},
    {"drill", ctl_cmd_drill},
};

/* The value of option name at argv[*i] (moving *i past it), or NULL when argv[*i] is another
 * option or has no value. */
static const char *option(int argc, char **argv, int *i, const char *name)
{
    if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc) {
        return NULL;
    }
    *i += 1;
    return argv[*i];
}

/* Reads the options before the command into c and r: the index of the command's name, or 0
 * when main is to exit with *status (after --help, or a wrong option: said). */
static int parse_options(int argc, char **argv, struct ctl *c, struct reach *r, int *status)
{
    int i = 1;
    const char *v;
    for (*status = CTL_USAGE; i < argc && argv[i][0] == '-'; i++) {
        if ((v = option(argc, argv, &i, "--endpoints")) != NULL ||
            (v = option(argc, argv, &i, "--node")) != NULL) {
            if (set_endpoints(c, v) != CTL_OK) {
                return 0;
            }
        } else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc &&
                   (strcmp(argv[i + 1], "json") == 0 || strcmp(argv[i + 1], "table") == 0)) {
            c->json = strcmp(argv[++i], "json") == 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            c->json = true;
        } else if ((v = option(argc, argv, &i, "--cacert")) != NULL) {
            r->cacert = v;
        } else if ((v = option(argc, argv, &i, "--token")) != NULL) {
            r->token = v;
        } else if ((v = option(argc, argv, &i, "--token-file")) != NULL) {
            r->token_file = v;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ctl_usage();
            *status = CTL_OK;
            return 0;
        } else {
            fprintf(stderr, "contactctl: unknown option '%s'\n", argv[i]);
            *status = ctl_usage();
            return 0;
        }
    }
    if (r->token != NULL && r->token_file != NULL) {
        fprintf(stderr, "contactctl: give --token or --token-file, not both\n");
        return 0;
    }
    if (i >= argc) {
        *status = ctl_usage();
        return 0;
    }
    return i;
}

static int run(struct ctl *c, int argc, char **argv)
{
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (strcmp(argv[0], groups[g].name) == 0) {
            int rv = groups[g].run(c, argc - 1, argv + 1);
            return rv == CTL_USAGE ? ctl_usage() : rv;
        }
    }
    fprintf(stderr, "contactctl: unknown command '%s'\n", argv[0]);
    return ctl_usage();
}

int main(int argc, char **argv)
{
    struct ctl c = {.json = false};
    struct reach r = {NULL, NULL, NULL};
    int status;
    const char *endpoints = env("CONTACTD_ENDPOINTS");
    if (endpoints == NULL) {
        endpoints = env("CONTACTD_NODE");
    }
    if (set_endpoints(&c, endpoints != NULL ? endpoints : "127.0.0.1:8080") != CTL_OK) {
        return CTL_USAGE;
    }
    int first = parse_options(argc, argv, &c, &r, &status);
    if (first == 0) {
        return status;
    }
    if ((status = open_http(&c, &r)) != CTL_OK) {
        return status;
    }
    status = run(&c, argc - first, argv + first);
    hb_client_free(c.http);
    return status;
}
