#!/usr/bin/env python3
"""What each crate contributes to a binary's code, for BENCHMARKS.md ("Binary size").

    bench/crate_sizes.py UNSTRIPPED_BINARY [ROWS]

Build it with symbols first, e.g.
    CARGO_PROFILE_DIST_STRIP=false cargo build --profile dist   # target/dist/m365mon
Each function symbol (`nm -S --size-sort -C`) is counted for the crate named by the
first segment of its demangled path, as cargo-bloat's --crates does (for `<A as B>::f`,
A's crate, or B's when A is a std type). Inlined code counts for the function it was
inlined into; what is not a Rust path (C from ring, libc) is "[C or unknown]".
"""
import subprocess, sys, re, collections
path = sys.argv[1]
out = subprocess.run(['nm', '-S', '--size-sort', '-C', path], capture_output=True, text=True).stdout
text_total = 0
sizes = collections.Counter()
STD = {'std', 'core', 'alloc', 'proc_macro', 'hashbrown_std', 'std_detect', 'panic_unwind', 'unwind', 'addr2line', 'gimli', 'object', 'miniz_oxide', 'rustc_demangle'}
def crate_of(name):
    n = name
    while n.startswith('<'):
        n = n[1:]
        if n.startswith('&') or n.startswith('*') or n.startswith('['): 
            n = n.lstrip('&*[ ').replace('mut ', '', 1)
    m = re.match(r'([A-Za-z_][A-Za-z0-9_]*)::', n)
    if m:
        c = m.group(1)
        # `<alloc::vec::Vec<T> as tokio::...>` : the impl's crate if the type is std's
        if c in STD and ' as ' in name:
            rest = name.split(' as ', 1)[1]
            m2 = re.match(r'([A-Za-z_][A-Za-z0-9_]*)::', rest.lstrip('&*'))
            if m2 and m2.group(1) not in STD:
                return m2.group(1)
        return c
    return '[C or unknown]'
for line in out.splitlines():
    parts = line.split(None, 3)
    if len(parts) < 4: continue
    _, size, kind, name = parts
    if kind not in 'tTwW': continue
    s = int(size, 16)
    text_total += s
    sizes[crate_of(name)] += s
filesize = __import__('os').path.getsize(path)
print(f'file {filesize} bytes, function symbols {text_total} bytes')
for c, s in sizes.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 40):
    print(f'{s/1e6:7.3f} MB  {100*s/text_total:5.1f} %  {c}')
