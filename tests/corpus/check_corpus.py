#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Reads every capture of the shared corpus (real/ and malformed/) with the
ASan+UBSan build of `flowcut read` and checks, per file:
  - no sanitizer report, no hang (timeout), exit status 0 - or, for files that
    are not readable captures, 1 with one clear "flowcut: error:" line;
  - the accounting identity packets_read == packets_in_flows + sum(nonflow);
  - the records written add up to packets_in_flows, and each has the fields
    the record interface promises;
  - for real/: every packet in the file was read (MANIFEST packet count).
real/ files are read twice: with default options, and with timeouts off and a
tiny flow table (--max-flows 8) so eviction runs on real traffic.
Prints PASS/FAIL lines."""
import concurrent.futures
import csv
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get("FC_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
CORPUS = os.path.join(SHARED, "corpus")
BIN = os.environ.get("FC_BIN", os.path.join(ROOT, "build", "asan", "flowcut"))
REQUIRED = ["flow_id", "start", "end", "proto", "src", "sport", "dst", "dport", "pkts", "bytes",
            "rpkts", "rbytes", "end_reason", "community_id"]
TCP_REQUIRED = ["tcp_flags", "rtcp_flags", "state", "history"]
SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


def manifest():
    rows = {}
    with open(os.path.join(CORPUS, "MANIFEST.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            rows[row["path"]] = row
    return rows


def check_records(path, stats, problems):
    total = 0
    ids = set()
    with open(path) as f:
        for n, line in enumerate(f, 1):
            try:
                rec = json.loads(line)
            except ValueError as e:
                problems.append(f"record line {n} is not JSON: {e}")
                return
            missing = [k for k in REQUIRED if k not in rec]
            if rec.get("proto") == 6:
                missing += [k for k in TCP_REQUIRED if k not in rec]
            if missing:
                problems.append(f"record line {n} lacks {missing}")
                return
            if rec["end"] < rec["start"]:
                problems.append(f"record line {n}: end before start")
            if rec["end_reason"] != "active":
                if rec["flow_id"] in ids:
                    problems.append(f"flow_id {rec['flow_id']} ended twice")
                ids.add(rec["flow_id"])
            total += rec["pkts"] + rec["rpkts"]
    if total != stats["packets_in_flows"]:
        problems.append(f"records hold {total} packets, stats say {stats['packets_in_flows']}")


def backtrace(pid):
    """Every thread's stack of a hung process (gdb attaches and detaches),
    so that a hang seen once in CI says where it was."""
    try:
        g = subprocess.run(["gdb", "-q", "-batch", "-p", str(pid), "-ex", "thread apply all bt 20"],
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"; no backtrace ({e})"
    lines = [l for l in g.stdout.splitlines() if l.startswith(("#", "Thread"))]
    return "; threads at the timeout:\n    " + "\n    ".join(lines[:80])


def run_one(rel, extra, expect_pkts):
    path = os.path.join(CORPUS, rel)
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "flows.json")
        st = os.path.join(tmp, "stats.json")
        cmd = [BIN, "read", path, "--quiet", "-o", out, "--stats", st] + extra
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            _, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            where = backtrace(p.pid)
            p.kill()
            p.communicate()
            return False, "timeout (hang?)" + where
        if any(m in err for m in SAN_MARKERS):
            return False, "sanitizer report:\n" + err[:3000]
        errors = [l for l in err.splitlines() if l.startswith("flowcut: error:")]
        if p.returncode not in (0, 1):
            return False, f"exit status {p.returncode}: {err[:500]}"
        if p.returncode == 1 and len(errors) != 1:
            return False, f"exit 1 without exactly one clear error line: {err[:500]}"
        if p.returncode == 0 and errors:
            return False, f"exit 0 but printed errors: {errors}"
        if rel.startswith("real/") and p.returncode != 0:
            return False, f"real capture failed: {err.strip()}"
        if os.path.exists(st):
            with open(st) as f:
                stats = json.load(f)
            nonflow = sum(stats["nonflow"].values())
            if stats["packets_read"] != stats["packets_in_flows"] + nonflow or not stats["identity_ok"]:
                problems.append(f"identity broken: read {stats['packets_read']} != "
                                f"in flows {stats['packets_in_flows']} + nonflow {nonflow}")
            if expect_pkts is not None and stats["packets_read"] != expect_pkts:
                problems.append(f"read {stats['packets_read']} packets, file has {expect_pkts}")
            check_records(out, stats, problems)
        elif p.returncode == 0:
            problems.append("no stats written")
    return not problems, "; ".join(problems)


def main():
    rows = manifest()
    jobs = []
    for rel in sorted(rows):
        if not os.path.exists(os.path.join(CORPUS, rel)):
            continue
        expect = None
        if rel.startswith("real/"):
            expect = int(rows[rel]["packets"])
            jobs.append((rel, [], expect, rel))
            jobs.append((rel, ["--idle-timeout", "0", "--active-timeout", "0", "--max-flows", "8"],
                         expect, rel + " [no timeouts, 8 flows]"))
        else:
            jobs.append((rel, [], None, rel))
    if not os.path.exists(BIN):
        print(f"FAIL corpus (no binary {BIN})")
        return 1
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        futs = [(name, ex.submit(run_one, rel, extra, expect)) for rel, extra, expect, name in jobs]
        for name, fut in futs:
            ok, why = fut.result()
            print(("PASS " if ok else "FAIL ") + "corpus " + name + ("" if ok else ": " + why))
            failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
