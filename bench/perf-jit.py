#!/usr/bin/env python3
"""Symbolizes a `perf record` of rvisor, translated code included.

Run rvisor with RVISOR_PERF_MAP=1 (it writes /tmp/perf-PID.map, one "start size name" line per
translated block: rvu:VA@PA for user code, rvk: for the kernel, /c for counting variants).
perf 6.1 treats the code cache (a memfd mapping) as a file and does not read the map itself;
this script does, and prints where the samples went, by binary and by symbol or guest block.

  RVISOR_PERF_MAP=1 perf record -e cpu-clock -F 2000 -o rv.data build/rvisor run ...
  bench/perf-jit.py rv.data /tmp/perf-PID.map [TOP]
"""
import bisect
import collections
import subprocess
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data, map_path = sys.argv[1], sys.argv[2]
    top = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    blocks = []
    with open(map_path) as f:
        for line in f:
            parts = line.split(maxsplit=2)
            if len(parts) == 3:
                blocks.append((int(parts[0], 16), int(parts[1], 16), parts[2].strip()))
    blocks.sort()
    starts = [b[0] for b in blocks]
    out = subprocess.run(['perf', 'script', '-i', data, '-F', 'ip,sym,dso', '-G'],
                         capture_output=True, text=True, check=True).stdout
    by_sym, by_dso, total = collections.Counter(), collections.Counter(), 0
    for line in out.splitlines():
        parts = line.split(maxsplit=1)
        if not parts:
            continue
        ip, rest = int(parts[0], 16), parts[1] if len(parts) > 1 else ''
        total += 1
        if 'rvisor-jit' in rest:
            i = bisect.bisect_right(starts, ip) - 1
            inside = i >= 0 and ip < blocks[i][0] + blocks[i][1]
            by_sym[blocks[i][2] if inside else 'translated code (trampoline, unknown)'] += 1
            by_dso['translated code'] += 1
        else:
            sym = rest.split('(')[0].strip() or '?'
            dso = rest.rsplit('(', 1)[-1].rstrip(')').rsplit('/', 1)[-1]
            by_sym[f'{sym} [{dso}]'] += 1
            by_dso[dso] += 1
    if not total:
        sys.exit('no samples')
    print(f'{total} samples')
    for name, n in by_dso.most_common(8):
        print(f'{100 * n / total:6.2f}% {name}')
    print()
    for name, n in by_sym.most_common(top):
        print(f'{100 * n / total:6.2f}% {name}')


if __name__ == '__main__':
    main()
