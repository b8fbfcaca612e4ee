#!/usr/bin/env python3
"""Hot translated blocks of a `perf record` of rvisor, with their guest and host code.

Run rvisor with RVISOR_PERF_MAP=code: besides /tmp/perf-PID.map it writes /tmp/perf-PID.code,
one line per translated block ("rx-address guest-va host-hex guest-hex"). This script counts
the samples per block and disassembles the SHOW hottest ones (riscv64-linux-gnu-objdump for
the guest code, objdump for the host code, with the samples of each host instruction).

  RVISOR_PERF_MAP=code perf record -e cpu-clock -F 2000 -o rv.data build/rvisor run ...
  bench/jit-hot.py rv.data PID [TOP] [SHOW]
"""
import bisect, collections, subprocess, sys, os, tempfile
data, pid = sys.argv[1], sys.argv[2]
top = int(sys.argv[3]) if len(sys.argv) > 3 else 25
show = int(sys.argv[4]) if len(sys.argv) > 4 else 3
blocks = {}
for line in open(f'/tmp/perf-{pid}.code'):
    p = line.split()
    if len(p) < 3: continue
    start = int(p[0], 16)
    blocks[start] = (int(p[1], 16), p[2], p[3] if len(p) > 3 else '')
starts = sorted(blocks)
out = subprocess.run(['perf', 'script', '-i', data, '-F', 'ip,sym,dso'], capture_output=True, text=True).stdout
cnt = collections.Counter(); other = collections.Counter(); total = 0
for line in out.splitlines():
    p = line.split()
    if not p: continue
    total += 1
    ip = int(p[0], 16)
    i = bisect.bisect_right(starts, ip) - 1
    if i >= 0:
        s = starts[i]; b = blocks[s]
        if ip < s + len(b[1]) // 2:
            cnt[s] += 1; continue
    other[' '.join(p[1:])[:60]] += 1
jit = sum(cnt.values())
print(f'total {total}, translated {jit} ({100*jit/total:.1f}%)')
for k, v in other.most_common(12): print(f'  {100*v/total:5.1f}% {k}')
print('hot blocks:')
for s, v in cnt.most_common(top):
    b = blocks[s]
    print(f'  {100*v/total:5.1f}% {s:x} va {b[0]:x} host {len(b[1])//2}B guest {len(b[2])//2}B')
samp = collections.defaultdict(collections.Counter)
for line in out.splitlines():
    p = line.split()
    if not p: continue
    ip = int(p[0], 16); i = bisect.bisect_right(starts, ip) - 1
    if i >= 0: samp[starts[i]][ip] += 1
for s, v in cnt.most_common(show):
    b = blocks[s]
    with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
        f.write(bytes.fromhex(b[2])); gp = f.name
    with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
        f.write(bytes.fromhex(b[1])); hp = f.name
    print(f'==== block {s:x} va {b[0]:x} {100*v/total:.1f}%')
    g = subprocess.run(['riscv64-linux-gnu-objdump', '-D', '-b', 'binary', '-m', 'riscv:rv64', f'--adjust-vma={b[0]:#x}', gp], capture_output=True, text=True).stdout
    print('\n'.join(l for l in g.splitlines() if l.startswith('  ')))
    h = subprocess.run(['objdump', '-D', '-b', 'binary', '-m', 'i386:x86-64', f'--adjust-vma={s:#x}', hp], capture_output=True, text=True).stdout
    for l in h.splitlines():
        if not l.startswith('  '): continue
        a = int(l.split(':')[0], 16)
        n = samp[s].get(a, 0)
        print(f'{n:5d} {l}')
