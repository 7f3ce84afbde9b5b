"""What TLS costs the write path: the same wrk loads as bench.py (one client, then 64)
against four 3-member clusters in turn, several rounds, medians reported:

  contactd plain  `insecure: true`: plain TCP on the API, Raft and the peer channel
  contactd TLS    as production runs: HTTPS on the API (server certificate), mutual TLS on
                  Raft and the peer channel
  etcd plain      http:// client and peer URLs
  etcd TLS        the same as contactd's: HTTPS for clients (server certificate, no client
                  certificates), mutual TLS between members (--peer-client-cert-auth)

wrk keeps its connections open through a load, so each connection makes one handshake at
its start: the figures are the cost of TLS records on established connections (and, for
the members, on their long-lived connections), not of handshakes. wrk does not check the
servers' certificates. Odd rounds go in the order above, even rounds in reverse, so that
drift of the shared machine falls on every configuration.

Prints a table and a line `RESULT contactd_tls_tput_cost_pct=N etcd_tls_tput_cost_pct=N ...`
(the cost: how much lower writes/s at 64 clients is with TLS, or how much higher commit p50
at one client, in % of plain). bench/cluster/README.md has the figures."""
import argparse
import os
import shutil
import statistics
import sys
import tempfile

from bench import Contactd, Etcd, Failure, Wrk, log

CONFIGS = (("contactd", False), ("contactd", True), ("etcd", False), ("etcd", True))
GOAL_PCT = 15  # TLS may cost contactd at most this much of its writes/s


def label(system, tls):
    return f"{system} {'TLS' if tls else 'plain'}"


def measure(name, system, wrk):
    """One cluster: started, the two loads against its leader, closed."""
    try:
        log(f"{name}: starting 3 members")
        system.start()
        log(f"{name}: one client ({wrk.seconds} s)")
        seq = wrk.run(system.url(system.leader()), system.mode, 1, 1,
                      getattr(system, "token", None))
        log(f"{name}: 64 clients ({wrk.seconds} s)")
        par = wrk.run(system.url(system.leader()), system.mode, 2, 64,
                      getattr(system, "token", None))
    finally:
        system.close()
        if isinstance(system, Etcd):  # its WAL files are preallocated, 64 MB each member
            shutil.rmtree(system.root, ignore_errors=True)
    return {"p50": seq["p50_us"], "p99": seq["p99_us"], "tput": par["rate"],
            "par_p50": par["p50_us"], "bad": seq["failed"] + seq["errors"] + par["failed"]
            + par["errors"], "steal": seq["steal_ms"] + par["steal_ms"]}


def cost(plain, tls, higher_is_better):
    """TLS's cost in % of the plain figure: positive when TLS is worse."""
    if higher_is_better:
        return 100 * (plain - tls) / plain
    return 100 * (tls - plain) / plain


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contactd", required=True)
    ap.add_argument("--seconds", type=int, default=10, help="length of each wrk load")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--election-ms", type=int, default=250)
    ap.add_argument("--dir", default=None, help="where the data directories go")
    args = ap.parse_args()
    if min(args.seconds, args.rounds) < 1:
        ap.error("--seconds and --rounds must be at least 1")
    root = tempfile.mkdtemp(prefix="contactd-tls-bench-", dir=args.dir)
    tempfile.tempdir = root  # the contactd harness makes its node directories here too
    wrk = Wrk(args.seconds)
    runs = {c: [] for c in CONFIGS}
    try:
        for r in range(args.rounds):
            order = CONFIGS if r % 2 == 0 else tuple(reversed(CONFIGS))
            for system, tls in order:
                if system == "contactd":
                    s = Contactd(args.contactd, args.election_ms, tls=tls)
                else:
                    s = Etcd(os.path.join(root, f"etcd-{r + 1}-{'tls' if tls else 'plain'}"),
                             args.election_ms, tls=tls)
                runs[(system, tls)].append(
                    measure(f"round {r + 1} {label(system, tls)}", s, wrk))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    def med(config, key):
        return statistics.median(x[key] for x in runs[config])

    rows = (("commit p50, 1 client (us)", "p50", 1, False),
            ("commit p99, 1 client (us)", "p99", 1, False),
            ("writes/s, 64 clients", "tput", 1, True),
            ("latency p50, 64 clients (ms)", "par_p50", 1000, False))
    print()
    print(f"election timeout {args.election_ms} ms, {args.seconds} s a load, "
          f"medians of {args.rounds} round{'s' if args.rounds > 1 else ''}")
    print()
    heads = [label(*c) for c in CONFIGS] + ["contactd cost", "etcd cost"]
    print(f"| {'figure':<30} | " + " | ".join(f"{h:>14}" for h in heads) + " |")
    print(f"|{'-' * 32}|" + "|".join("-" * 16 for _ in heads) + "|")
    for name, key, scale, higher in rows:
        cells = [f"{med(c, key) / scale:.{1 if scale > 1 else 0}f}" for c in CONFIGS]
        for system in ("contactd", "etcd"):
            pct = cost(med((system, False), key), med((system, True), key), higher)
            cells.append(f"{pct:+.1f} %")
        print(f"| {name:<30} | " + " | ".join(f"{c:>14}" for c in cells) + " |")
    steal = [f"{med(c, 'steal'):.0f}" for c in CONFIGS] + ["", ""]
    print(f"| {'CPU stolen in the loads (ms)':<30} | "
          + " | ".join(f"{c:>14}" for c in steal) + " |")
    bad = sum(x["bad"] for v in runs.values() for x in v)
    if bad:
        print(f"\n{bad:.0f} failed answers or socket errors in all (not counted as writes)")

    ct = cost(med(CONFIGS[0], "tput"), med(CONFIGS[1], "tput"), True)
    et = cost(med(CONFIGS[2], "tput"), med(CONFIGS[3], "tput"), True)
    cp = cost(med(CONFIGS[0], "p50"), med(CONFIGS[1], "p50"), False)
    ep = cost(med(CONFIGS[2], "p50"), med(CONFIGS[3], "p50"), False)
    print(f"\ncontactd: TLS costs {ct:.1f} % of writes/s at 64 clients (goal: at most "
          f"{GOAL_PCT} %): {'met' if ct <= GOAL_PCT else 'not met'}")
    print(f"RESULT contactd_tls_tput_cost_pct={ct:.1f} etcd_tls_tput_cost_pct={et:.1f} "
          f"contactd_tls_p50_cost_pct={cp:.1f} etcd_tls_p50_cost_pct={ep:.1f} "
          f"contactd_plain_tput={med(CONFIGS[0], 'tput'):.0f} "
          f"contactd_tls_tput={med(CONFIGS[1], 'tput'):.0f} "
          f"etcd_plain_tput={med(CONFIGS[2], 'tput'):.0f} "
          f"etcd_tls_tput={med(CONFIGS[3], 'tput'):.0f} "
          f"contactd_plain_p50_us={med(CONFIGS[0], 'p50'):.0f} "
          f"contactd_tls_p50_us={med(CONFIGS[1], 'p50'):.0f} "
          f"etcd_plain_p50_us={med(CONFIGS[2], 'p50'):.0f} "
          f"etcd_tls_p50_us={med(CONFIGS[3], 'p50'):.0f}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Failure as err:
        print(f"bench: {err}", file=sys.stderr)
        sys.exit(1)
