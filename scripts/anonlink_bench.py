"""anonlink on the encodings `iip bench-linkage` wrote: candidate pairs at the threshold with its
accelerated Dice kernel, greedy one-to-one solving, precision and recall (the first half of each
side are the true pairs, in the same order). Usage: anonlink_bench.py DIR THRESHOLD"""
import sys
import time

import anonlink
from bitarray import bitarray


def read(path):
    clks = []
    with open(path) as f:
        for line in f:
            bits = bitarray(endian="big")
            bits.frombytes(bytes.fromhex(line.strip()))
            clks.append(bits)
    return clks


def main():
    folder, threshold = sys.argv[1], float(sys.argv[2])
    left, right = read(f"{folder}/left.hex"), read(f"{folder}/right.hex")
    n, overlap = len(left), len(left) // 2
    started = time.process_time()
    wall = time.perf_counter()
    candidates = anonlink.candidate_generation.find_candidate_pairs(
        [left, right], anonlink.similarities.dice_coefficient_accelerated, threshold
    )
    kernel = time.process_time() - started
    solution = anonlink.solving.greedy_solve(candidates)
    total = time.perf_counter() - wall
    pairs = [sorted(group) for group in solution if len(group) == 2]
    links = [(a[1], b[1]) for a, b in pairs]
    true_links = sum(1 for i, j in links if i == j and i < overlap)
    precision = true_links / max(len(links), 1)
    recall = true_links / overlap
    found = len(candidates[0])
    print(
        f"anonlink {anonlink.__version__}: {n} x {n} at {threshold}: {found} candidates, kernel {kernel:.2f} CPU-s "
        f"({n * n / kernel / 1e6:.1f} M comparisons/s), with solving {total:.2f} s, "
        f"precision {precision:.4f}, recall {recall:.4f}"
    )


if __name__ == "__main__":
    main()
