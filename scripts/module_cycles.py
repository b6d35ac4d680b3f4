#!/usr/bin/env python3
"""Lists circles of imports between the source files of each crate (issue #17: "no circle of
imports between files").

A file imports another when its code (comments and `#[cfg(test)] mod tests` left out) names a
path into it: `crate::a::b`, `super::b`, `super::super::c`. Paths into a file's own ancestors
(a `mod.rs` re-exporting its children) do not count; generated code is left out. Prints each
circle with the paths that close it, then `cycles: N`. Run from the repository root:
`python3 scripts/module_cycles.py .`
"""
import os
import re
import sys
from collections import defaultdict


def module_of(src, path):
    parts = os.path.relpath(path, src)[:-3].split(os.sep)
    return tuple(parts[:-1] if parts[-1] in ("mod", "lib", "main") else parts)


def existing_module(src, segments):
    for n in range(len(segments), 0, -1):
        base = os.path.join(src, *segments[:n])
        if os.path.isfile(base + ".rs") or os.path.isfile(os.path.join(base, "mod.rs")):
            return tuple(segments[:n])
    return None


def crate_cycles(src):
    graph, why = defaultdict(set), {}
    for folder, _, names in os.walk(src):
        if "/generated" in folder:
            continue
        for name in (n for n in names if n.endswith(".rs")):
            path = os.path.join(folder, name)
            me = module_of(src, path)
            text = open(path, encoding="utf-8").read()
            text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)
            text = "\n".join(line.split("//")[0] for line in text.split("\n"))
            paths = [
                (m.group(1), m.group(2).split("::")[1:], m.group(0))
                for m in re.finditer(r"\b(crate|super(?:::super)*)((?:::[A-Za-z_]\w*)+)", text)
            ]
            # Grouped imports: `use super::{a, b::C};`, `use crate::x::{y, z}`.
            for m in re.finditer(r"\b(crate|super(?:::super)*)((?:::\w+)*)::\{([^}]*)\}", text):
                for item in m.group(3).split(","):
                    first = item.strip().split("::")[0].strip()
                    if re.fullmatch(r"[A-Za-z_]\w*", first) and first != "self":
                        tail = m.group(2).split("::")[1:] + [first]
                        paths.append((m.group(1), tail, m.group(0)))
            for head, tail, text_of_path in paths:
                base = [] if head == "crate" else list(me[: len(me) - head.count("super")])
                target = existing_module(src, base + tail)
                if target is None or me[: len(target)] == target or target[: len(me)] == me:
                    continue
                graph[me].add(target)
                why.setdefault((me, target), text_of_path)
    index, low, stack, on, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return found, why


def main(root):
    total = 0
    crates = [os.path.join(root, "crates", c, "src") for c in sorted(os.listdir(os.path.join(root, "crates")))]
    for src in crates + [os.path.join(root, "xtask", "src")]:
        if not os.path.isdir(src):
            continue
        found, why = crate_cycles(src)
        for component in found:
            total += 1
            members = set(component)
            print(os.path.relpath(src, root), " <-> ".join("::".join(m) for m in component))
            for (a, b), path in sorted(why.items()):
                if a in members and b in members:
                    print("    ", "::".join(a), "->", "::".join(b), ":", path)
    print("cycles:", total)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
