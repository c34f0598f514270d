#!/usr/bin/env python3
"""DuckDB baseline for the core metric suite (docs/metrics.md) over every scope of `iip report`.

    python scripts/duckdb_core.py --package DIR --year 2024-25 --out raw.csv [--repeat 3] [--threads N]

Loads an exchange package (docs/exchange-format.md) into typed in-memory tables (timed), then
runs the whole suite as one SQL query (timed, --repeat times) and writes raw, unsuppressed
`scope_id,metric,numerator,denominator` rows to --out. Check them with scripts/compare_core.py.
Needs only the `duckdb` package.
"""
import argparse
import csv
import os
import re
import resource
import statistics
import sys
import time

import duckdb

ELEMENTS = ["english", "education", "economic", "credentials", "health", "civic", "navigation", "social"]
METRICS = ["adults_served", "participants"] + [f"element.{e}" for e in ELEMENTS] + ["any_milestone"]

# Typed tables. Only the columns the suite reads are kept; other columns (x_* included) are ignored.
# Hours are kept as integer hundredths so that sums are exact.
TABLES = {
    "organizations": ("org_id VARCHAR, name VARCHAR, sector VARCHAR, level VARCHAR, parent_id VARCHAR, area VARCHAR",
                      "org_id, name, sector, level, parent_id, area"),
    "participants": ("org_id VARCHAR, participant_id VARCHAR, person_key VARCHAR",
                     "org_id, participant_id, person_key"),
    "activities": ("org_id VARCHAR, participant_id VARCHAR, date DATE, program VARCHAR, hundredths INTEGER, element VARCHAR",
                   "org_id, participant_id, CAST(date AS DATE), program, "
                   "CAST(CAST(hours AS DECIMAL(5,2)) * 100 AS INTEGER), element"),
    "milestones": ("org_id VARCHAR, participant_id VARCHAR, date DATE, milestone VARCHAR",
                   "org_id, participant_id, CAST(date AS DATE), milestone"),
}


def load(con, package):
    for table, (schema, select) in TABLES.items():
        con.execute(f"CREATE TABLE {table} ({schema})")
        path = os.path.join(package, f"{table}.csv")
        if not os.path.exists(path):  # every file of a package is optional
            continue
        # Read every column as text by header name (any order), then cast: the sniffer never guesses
        # a type. RFC 4180 dialect; a UTF-8 BOM is skipped; an empty field, quoted or not, is NULL.
        con.execute(
            f"INSERT INTO {table} SELECT {select} FROM read_csv(?, header = true, all_varchar = true, "
            "delim = ',', quote = '\"', escape = '\"', allow_quoted_nulls = true)",
            [path],
        )


def suite_sql(year):
    start = int(year[:4])
    first, last = f"{start}-07-01", f"{start + 1}-06-30"
    # Bit i of a person's mask = a milestone of ELEMENTS[i] in the year, at any organization.
    bits = " ".join(f"WHEN '{e}' THEN {1 << i}" for i, e in enumerate(ELEMENTS))
    element_counts = ",\n    ".join(
        f"count(*) FILTER (WHERE hundredths >= 1200 AND mask & {1 << i} <> 0) AS e_{e}" for i, e in enumerate(ELEMENTS))
    return f"""
WITH RECURSIVE
-- (ancestor, descendant) for every organization and everything below it; the parent chain is
-- acyclic (checked on import), so UNION ALL terminates.
closure(ancestor, descendant) AS (
    SELECT org_id, org_id FROM organizations
    UNION ALL
    SELECT c.ancestor, o.org_id FROM closure c JOIN organizations o ON o.parent_id = c.descendant
),
-- The organizations of every scope `iip report` prints (kind: organizations, sectors, levels): each
-- organization with everything below it; the roll-up sector:S, the organizations of sector S
-- themselves; the roll-up level:L, the organizations of level L with everything below them
-- (DISTINCT: an organization under two nested level-L organizations counts once).
scope_org(kind, scope_id, org_id) AS (
    SELECT 0, ancestor, descendant FROM closure
    UNION ALL
    SELECT 1, 'sector:' || sector, org_id FROM organizations
    UNION ALL
    SELECT DISTINCT 2, 'level:' || a.level, c.descendant
    FROM closure c JOIN organizations a ON a.org_id = c.ancestor
),
-- A person: the person_key, else the record's (org, participant id). '|' cannot occur in an id,
-- so the two forms never collide.
record AS (
    SELECT org_id, participant_id, coalesce(person_key, org_id || '|' || participant_id) AS person
    FROM participants
),
person_mask AS (
    SELECT r.person, bit_or(CASE split_part(m.milestone, '.', 1) {bits} ELSE 0 END) AS mask
    FROM milestones m JOIN record r USING (org_id, participant_id)
    WHERE m.date BETWEEN DATE '{first}' AND DATE '{last}'
    GROUP BY r.person
),
-- Hours in the year per (organization, person): a person's records at one organization add up.
org_person AS (
    SELECT a.org_id, r.person, sum(a.hundredths) AS hundredths
    FROM activities a JOIN record r USING (org_id, participant_id)
    WHERE a.date BETWEEN DATE '{first}' AND DATE '{last}'
    GROUP BY a.org_id, r.person
),
-- ... and across the organizations of each scope.
scope_person AS (
    SELECT so.scope_id, op.person, sum(op.hundredths) AS hundredths
    FROM org_person op JOIN scope_org so ON so.org_id = op.org_id
    GROUP BY so.scope_id, op.person
),
wide AS (
    SELECT s.kind, s.scope_id,
    count(sp.person) AS served,
    count(*) FILTER (WHERE hundredths >= 1200) AS participants,
    {element_counts},
    count(*) FILTER (WHERE hundredths >= 1200 AND mask <> 0) AS any_milestone
    FROM (SELECT DISTINCT kind, scope_id FROM scope_org) s
    LEFT JOIN scope_person sp ON sp.scope_id = s.scope_id
    LEFT JOIN person_mask pm ON pm.person = sp.person
    GROUP BY s.kind, s.scope_id
)
-- One row per (scope, metric); parallel unnests zip.
SELECT scope_id,
       unnest({METRICS!r}) AS metric,
       unnest([served, participants, {", ".join(f"e_{e}" for e in ELEMENTS)}, any_milestone]) AS numerator,
       unnest([NULL, NULL{", participants" * 9}]) AS denominator,
       unnest(range({len(METRICS)})) AS ord
FROM wide
ORDER BY kind, scope_id, ord
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", required=True)
    ap.add_argument("--year", required=True, help="program year, e.g. 2024-25")
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int)
    args = ap.parse_args()
    if not re.fullmatch(r"\d{4}-\d{2}", args.year) or (int(args.year[:4]) + 1) % 100 != int(args.year[5:]):
        sys.exit(f"bad --year {args.year!r}: expected e.g. 2024-25")

    con = duckdb.connect(":memory:")
    if args.threads:
        con.execute(f"SET threads = {args.threads}")

    t = time.perf_counter()
    load(con, args.package)
    print(f"duckdb load: {time.perf_counter() - t:.2f} s")

    sql = suite_sql(args.year)
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times.append(time.perf_counter() - t)
    print(f"duckdb core suite (all scopes): best {min(times):.3f} s, "
          f"median {statistics.median(times):.3f} s over {len(times)} runs")

    with open(args.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["scope_id", "metric", "numerator", "denominator"])
        w.writerows(r[:4] for r in rows)  # None is written as an empty field

    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(f"duckdb threads: {threads}")
    # ru_maxrss is in KiB on Linux: the whole process, load included.
    print(f"duckdb peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (max RSS)")


if __name__ == "__main__":
    main()
