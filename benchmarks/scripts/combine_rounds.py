#!/usr/bin/env python3
"""Joins the rounds of side-by-side.sh into one table.

Each round has the reference seconds (reference_table.py's TSV: query, tool, seconds, min, max) and
influence4j's table as QueryTable printed it (Markdown rows: query | reference | seconds (min-max) |
ratio | goal). side-by-side.sh runs the rounds in the order reference, influence4j, influence4j,
reference, ... (ABBA), so a drift of the machine's speed that is linear in time weighs on both sides
alike; the ratio of the two sides' mean seconds cancels it, where the ratio of one round does not.

    combine_rounds.py --references R1.tsv R2.tsv --ours O1.md O2.md

prints, per query in the order of the first table: the seconds of each round on each side, the ratio of
the mean seconds, the smallest and largest ratio of a single round, and the goal. A query missing from a
round on either side gets no ratio. Uses only the standard library.
"""
import argparse
import csv
import re
import sys

ROW = re.compile(r"^\|\s*(?P<query>[^|]+?)\s*\|[^|]*\|\s*(?P<seconds>[0-9.]+) \([0-9.]+-[0-9.]+\)\s*\|"
                 r"[^|]*\|\s*(?P<goal>[0-9.]+x|-)\s*\|\s*$")


def references(path):
    """@return {query: seconds} of one reference TSV (rows without seconds, skipped queries, left out)"""
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f, delimiter="\t")
        header = next(rows, None)
        if header != ["query", "tool", "seconds", "min", "max"]:
            sys.exit(f"combine_rounds.py: {path}: not a reference TSV (header {header})")
        return {r[0]: float(r[2]) for r in rows if len(r) == 5}


def ours(path):
    """@return ({query: seconds}, {query: goal}) of one QueryTable output, its queries in order"""
    seconds, goals = {}, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.rstrip("\n"))
            if m:
                seconds[m["query"]] = float(m["seconds"])
                goals[m["query"]] = m["goal"]
    if not seconds:
        sys.exit(f"combine_rounds.py: {path}: holds no QueryTable rows")
    return seconds, goals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--references", nargs="+", required=True, help="the rounds' reference TSVs, in order")
    parser.add_argument("--ours", nargs="+", required=True, help="the rounds' QueryTable outputs, in order")
    args = parser.parse_args()
    if len(args.references) != len(args.ours):
        sys.exit(f"combine_rounds.py: --references has {len(args.references)} files and --ours "
                 f"{len(args.ours)}; give one of each per round")
    refs = [references(p) for p in args.references]
    tables = [ours(p) for p in args.ours]
    rounds = len(refs)
    print(f"{rounds} rounds (reference and influence4j alternating, ABBA); ratio = mean reference seconds "
          f"/ mean influence4j seconds; range = the single rounds' ratios")
    print("| query | reference s | influence4j s | ratio | range | goal |")
    print("|---|---|---|---|---|---|")
    for query, goal in tables[0][1].items():
        ref = [r.get(query) for r in refs]
        our = [t[0].get(query) for t in tables]
        ref_text = " / ".join("-" if s is None else f"{s:.3f}" for s in ref)
        our_text = " / ".join("-" if s is None else f"{s:.3f}" for s in our)
        if None in ref or None in our:
            print(f"| {query} | {ref_text} | {our_text} | - | - | {goal} |")
            continue
        ratio = sum(ref) / sum(our)
        singles = [r / o for r, o in zip(ref, our)]
        print(f"| {query} | {ref_text} | {our_text} | {ratio:.2f}x | {min(singles):.2f}-{max(singles):.2f}x "
              f"| {goal} |")


if __name__ == "__main__":
    main()
