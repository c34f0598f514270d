#!/usr/bin/env python3
"""Compare raw core metrics (scripts/duckdb_core.py) with `iip report --format csv`.

    python scripts/compare_core.py raw.csv iip.csv

Every (scope_id, metric) must be in both files. Where iip shows the figures (suppressed = false),
numerator and denominator must be equal; a suppressed iip row (counts 1-9 hidden) only has to
exist. Prints `compared N rows, M mismatches`; exits 1 on any mismatch or missing pair. Stdlib only.
"""
import csv
import sys


def read(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return {(r["scope_id"], r["metric"]): r for r in csv.DictReader(f)}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    raw, iip = read(sys.argv[1]), read(sys.argv[2])
    problems = []
    for key in sorted(raw.keys() - iip.keys()):
        problems.append(f"{key[0]},{key[1]}: missing from {sys.argv[2]}")
    for key in sorted(iip.keys() - raw.keys()):
        problems.append(f"{key[0]},{key[1]}: missing from {sys.argv[1]}")
    compared = mismatches = 0
    for key in sorted(raw.keys() & iip.keys()):
        if iip[key]["suppressed"] != "false":
            continue
        compared += 1
        got = (raw[key]["numerator"], raw[key]["denominator"])
        want = (iip[key]["numerator"], iip[key]["denominator"])
        if got != want:
            mismatches += 1
            problems.append(f"{key[0]},{key[1]}: raw {'/'.join(got)}, iip {'/'.join(want)}")
    for p in problems:
        print(p)
    print(f"compared {compared} rows, {mismatches} mismatches")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
