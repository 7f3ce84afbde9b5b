/* contactctl: operate a contactd cluster through the HTTP API of any of its nodes.
 * `contactctl --help` lists the commands; ops/contactctl/README is not needed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/contactctl/ctl.h"

int ctl_usage(void)
{
    fprintf(
        stderr,
        "usage: contactctl [--endpoints HOST:PORT,...] [--output table|json] COMMAND\n"
        "\n"
        "Endpoints: --endpoints (or --node), else $CONTACTD_ENDPOINTS, else 127.0.0.1:8080.\n"
        "A node that cannot be reached, or has no leader, is passed over for the next; a\n"
        "change a node may have made (it took the request and did not answer, or answered\n"
        "503) is not sent again: check, then run it again (contact create is safe: it\n"
        "carries a key).\n"
        "\n"
        "cluster:\n"
        "  status                              each member's role, term, applied index and "
        "lag\n"
        "  member list | add ID RAFT API PEER | remove ID\n"
        "  leader transfer [ID]\n"
        "routing model:\n"
        "  model validate FILE                 check a model; changes nothing\n"
        "  model diff FILE                     what FILE would change\n"
        "  model apply FILE [--comment C] [--actor A]\n"
        "  model history                       installed versions, newest first\n"
        "  model show [VERSION]                a version's text (default: running)\n"
        "  model rollback VERSION [--comment C] [--actor A]\n"
        "  audit                               who changed the model, when, why, what\n"
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
        "  contact transfer ID --queue Q | --agent A | --target URI\n"
        "  contact attrs ID K=V...             (K= removes K)\n"
        "  contact session ID --home MEMBER [--key K]   the customer is now connected there\n"
        "  contact session-end ID              the customer's live connection ended\n"
        "  offer accept|reject OFFER AGENT\n"
        "  history [--from MS] [--to MS] [--limit N]   finished contacts\n"
        "  events [--after ID|now] [--follow] [--agent A] [--contact ID] [--kind K,...]\n"
        "webhooks:\n"
        "  webhook add URL --secret S --kinds K,K...   deliver those events to URL\n"
        "  webhook list | show ID | delete ID  show: with its latest delivery attempts\n"
        "\n"
        "Exit status: 0 done, 1 the cluster refused (the error is printed), 2 bad command\n"
        "line, 3 no node answered or none had a leader.\n");
    return CTL_USAGE;
}

static int set_endpoints(struct ctl *c, const char *list)
{
    char buf[CTL_ENDPOINTS_MAX * CTL_ADDR_MAX], *save;
    snprintf(buf, sizeof(buf), "%s", list);
    c->n_endpoints = 0;
    for (char *e = strtok_r(buf, ",", &save); e != NULL; e = strtok_r(NULL, ",", &save)) {
        if (strncmp(e, "http://", 7) == 0) {
            e += 7;
        }
        e[strcspn(e, "/")] = 0;
        if (c->n_endpoints == CTL_ENDPOINTS_MAX || *e == 0 || strchr(e, ':') == NULL) {
            fprintf(stderr, "contactctl: endpoint '%s': expected HOST:PORT (at most %d)\n", e,
                    CTL_ENDPOINTS_MAX);
            return CTL_USAGE;
        }
        snprintf(c->endpoints[c->n_endpoints++], CTL_ADDR_MAX, "%s", e);
    }
    return c->n_endpoints > 0 ? CTL_OK : CTL_USAGE;
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
};

int main(int argc, char **argv)
{
    struct ctl c = {.json = false};
    const char *env = getenv("CONTACTD_ENDPOINTS");
    if (env == NULL || *env == 0) {
        env = getenv("CONTACTD_NODE");
    }
    if (set_endpoints(&c, env != NULL && *env ? env : "127.0.0.1:8080") != CTL_OK) {
        return CTL_USAGE;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "--endpoints") == 0 || strcmp(argv[i], "--node") == 0) &&
            i + 1 < argc) {
            if (set_endpoints(&c, argv[++i]) != CTL_OK) {
                return CTL_USAGE;
            }
        } else if (strcmp(argv[i], "--output") == 0 && i + 1 < argc &&
                   (strcmp(argv[i + 1], "json") == 0 || strcmp(argv[i + 1], "table") == 0)) {
            c.json = strcmp(argv[++i], "json") == 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            c.json = true;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            ctl_usage();
            return CTL_OK;
        } else {
            fprintf(stderr, "contactctl: unknown option '%s'\n", argv[i]);
            return ctl_usage();
        }
    }
    if (i >= argc) {
        return ctl_usage();
    }
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        if (strcmp(argv[i], groups[g].name) == 0) {
            int rv = groups[g].run(&c, argc - i - 1, argv + i + 1);
            return rv == CTL_USAGE ? ctl_usage() : rv;
        }
    }
    fprintf(stderr, "contactctl: unknown command '%s'\n", argv[i]);
    return ctl_usage();
}
