#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Turn a bench run (raw.jsonl, machine.json) into results.json, table.md
and chart.png: every figure with its ratio to native, measured in the same
run. Ratios are "how fast compared to native": for throughput, value over
native's; for a timed step, native's time over the system's (so higher is
better everywhere, and 1.0 is native)."""
import json
import os
import subprocess
import sys

OUT = sys.argv[1]
WORKLOADS = [
    ("seqread-warm", "sequential read 1 MiB, warm"),
    ("seqread-cold", "sequential read 1 MiB, cold"),
    ("randread-warm-1", "random read 4 KiB, warm, 1 job"),
    ("randread-warm-2", "random read 4 KiB, warm, 2 jobs"),
    ("randread-cold", "random read 4 KiB, cold"),
    ("seqwrite", "sequential write 1 MiB + fsync"),
    ("randwrite", "random write 4 KiB"),
    ("create", "create"),
    ("stat", "stat"),
    ("unlink", "unlink"),
    ("tar-extract", "tar x of /usr/include (time)"),
    ("tar-create", "tar c of it back (time)"),
    ("rm-rf", "rm -rf of it (time)"),
    ("tree-find", "find -ls of the big tree, cold (time)"),
    ("tree-du", "du -s of it after (time)"),
]
# not speeds, shown apart: bytes of daemon memory per entry walked
MEMORY = [
    ("rss-per-entry", "daemon RSS growth per entry of the big tree walked"),
    ("inode-bytes", "memmapfs' own count: inode_bytes / inodes"),
]
# measured in passes of their own, each on a fresh mount and only if
# nothing of the file was resident (bench.sh)
COLD = ("seqread-cold", "randread-cold")
# the targets: (workload, system, minimum speed ratio)
TARGETS = [
    ("seqread-warm", "memmapfs", 0.95),
    ("randread-warm-1", "memmapfs", 0.95),
    ("seqread-cold", "memmapfs", 0.90),
    ("randread-cold", "memmapfs-best", 2.0),
    ("seqwrite", "memmapfs", 0.90),
    ("randwrite", "memmapfs", 0.50),
    ("create", "memmapfs", 0.25),
    ("stat", "memmapfs", 0.60),
    ("unlink", "memmapfs", 0.40),
    ("tar-extract", "memmapfs", 1 / 1.6),
]

machine = json.load(open(os.path.join(OUT, "machine.json")))
rows, notes = [], {}
for line in open(os.path.join(OUT, "raw.jsonl")):
    r = json.loads(line)
    if "note" in r:
        notes.setdefault(r["system"], []).append(r["note"])
    else:
        rows.append(r)
systems = []
for r in rows:
    if r["system"] not in systems:
        systems.append(r["system"])

def median(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def speed_ratio(r, n):
    """r against native's n of the same pass (higher is faster)."""
    if not r or not n or not r["value"] or not n["value"]:
        return None
    if r["unit"] == "s":
        return n["value"] / r["value"]
    return r["value"] / n["value"]


# every pass of (system, workload), then one record of medians for each:
# ratios are taken within a pass (native drifts between passes too)
by_pass = {}
for r in rows:
    by_pass.setdefault((r["system"], r["workload"]), {})[r.get("pass", 1)] = r
val, ratios = {}, {}
for key, passes in by_pass.items():
    recs = list(passes.values())
    val[key] = dict(recs[0])
    for f in ("value", "cpu_s", "bytes", "cache_growth"):
        val[key][f] = median(x[f] for x in recs)
    native = by_pass.get(("native", key[1]), {})
    ratios[key] = [q for q in (speed_ratio(r, native.get(p))
                               for p, r in passes.items()) if q is not None]


def ratio(system, workload):
    return median(ratios.get((system, workload), []))


def spread(system, workload):
    qs = ratios.get((system, workload), [])
    return (min(qs), max(qs)) if len(qs) > 1 else None


def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}"


results = {"machine": machine, "notes": notes, "systems": systems,
           "workloads": {}}
lines = [f"Run {machine['date']} on {machine['cpus']} CPUs, "
         f"{machine['memory_gib']} GiB, {machine['fs']} on {machine['disk']}, "
         f"kernel {machine['kernel']}; files of {machine['size']}, "
         f"{machine['runtime_s']} s a timed run"
         f"{' (QUICK SMOKE RUN)' if machine['quick'] == 'quick' else ''}"
         f"{' (LEVERS: memmapfs options one at a time)' if machine['quick'] == 'levers' else ''}. "
         f"memmapfs-best: `-o {machine['memmapfs_best']}`; "
         + (f"memmapfs-auto: `-o {machine['memmapfs_auto']}`."
            if "memmapfs_auto" in machine else
            f"memmapfs-single: `-o {machine.get('memmapfs_single', 'cache=single')}`."),
         "",
         "| workload | " + " | ".join(systems) + " |",
         "| --- |" + " --- |" * len(systems)]
for w, title in WORKLOADS:
    if not any((s, w) in val for s in systems):
        continue
    unit = next(val[(s, w)]["unit"] for s in systems if (s, w) in val)
    if w == "create" and "meta_n" in machine:
        title = f"create ({machine['meta_n']:,} files)"
    if w == "tree-find" and "tree_files" in machine:
        title = f"find -ls of {machine['tree_files']:,} files, cold (time)"
    cells = []
    results["workloads"][w] = {}
    for s in systems:
        r = val.get((s, w))
        q = ratio(s, w)
        results["workloads"][w][s] = {"value": r and r["value"],
                                      "spread": spread(s, w),
                                      "unit": unit, "ratio": q}
        if not r:
            cells.append("-")
        elif s == "native":
            cells.append(f"{fmt(r['value'])}")
        else:
            sp = spread(s, w)
            cells.append(fmt(r["value"]) if not q else
                         f"{fmt(r['value'])} (**{q:.2f}**"
                         + (f", {sp[0]:.2f}-{sp[1]:.2f})" if sp else ")"))
    lines.append(f"| {title}, {unit} | " + " | ".join(cells) + " |")
lines += ["", "Ratios (bold) are speed relative to native in the same pass: "
          "value / native, or native's time / the system's for timed steps; "
          f"with {machine.get('passes', 1)} passes "
          f"({machine.get('cold_passes', machine.get('passes', 1))} for the "
          "cold reads, each on a fresh mount, recorded only if nothing of "
          "the file was resident at the start, systems in turned order), "
          "figures are medians and the range after the bold ratio is the "
          "lowest and highest ratio of the passes.", ""]

# daemon CPU per GiB, page cache per GiB read (left out when no system has
# a figure, as in a BENCH_ONLY=tree run)
gib_rows = []
for w, what in (("seqread-cold", "daemon CPU s per GiB, cold read"),
                ("seqwrite", "daemon CPU s per GiB, write")):
    cells = []
    for s in systems[1:]:
        r = val.get((s, w))
        if r and r["cpu_s"] is not None and r["bytes"]:
            cells.append(f"{r['cpu_s'] / (r['bytes'] / 2**30):.2f}")
        else:
            cells.append("-")
    gib_rows.append((what, cells))
cells = []
for s in systems[1:]:
    r = val.get((s, "page-cache"))
    cells.append(f"{r['value']:.2f}" if r else "-")
gib_rows.append(("page cache GiB per GiB read (cold; mount file + backing "
                 "file, fincore)", cells))
if any(c != "-" for _, cells in gib_rows for c in cells):
    lines += ["| per GiB | " + " | ".join(s for s in systems if s != "native")
              + " |", "| --- |" + " --- |" * (len(systems) - 1)]
    lines += [f"| {what} | " + " | ".join(cells) + " |"
              for what, cells in gib_rows]
r = val.get(("native", "page-cache"))
if r:
    lines.append(f"\nNative: page cache {r['value']:.2f} GiB per GiB read "
                 "(fincore).")

# targets
mem_systems = [s for s in systems
               if any((s, w) in val for w, _ in MEMORY)]
if mem_systems:
    lines += ["", "| daemon memory, bytes | " + " | ".join(mem_systems) + " |",
              "| --- |" + " --- |" * len(mem_systems)]
    for w, title in MEMORY:
        if any((s, w) in val for s in mem_systems):
            lines.append(f"| {title} | " + " | ".join(
                fmt(val[(s, w)]["value"]) if (s, w) in val else "-"
                for s in mem_systems) + " |")
            results.setdefault("memory", {})[w] = {
                s: val[(s, w)]["value"] for s in mem_systems if (s, w) in val}
lines += ["", "| target | wanted | measured | |", "| --- | --- | --- | --- |"]
for w, s, want in TARGETS:
    q = ratio(s, w)
    if q is None:
        continue
    met = "met" if q >= want else "**missed**"
    lines.append(f"| {w} ({s}) | >= {want:.2f} | {q:.2f} | {met} |")
results["targets"] = [{"workload": w, "system": s, "wanted": t,
                       "measured": ratio(s, w)} for w, s, t in TARGETS]
# the two targets that are not speed ratios
for s in ("memmapfs", "memmapfs-auto", "memmapfs-single"):
    r = val.get((s, "page-cache"))
    if r:
        met = "met" if r["value"] <= 1.2 else "**missed**"
        lines.append(f"| page cache per GiB read ({s}) | <= 1.20 | "
                     f"{r['value']:.2f} | {met} |")
    r = val.get((s, "rss-per-entry"))
    if r and r["value"] is not None:
        met = "met" if r["value"] <= 200 else "**missed**"
        lines.append(f"| daemon memory per entry walked ({s}), bytes | "
                     f"<= 200 | {r['value']:.0f} | {met} |")


def cpu_per_gib(s):
    r = val.get((s, "seqread-cold"))
    if r and r["cpu_s"] is not None and r["bytes"]:
        return r["cpu_s"] / (r["bytes"] / 2**30)
    return None


peers = [c for c in (cpu_per_gib(s) for s in systems
                     if not s.startswith("memmapfs") and s != "native")
         if c is not None]
mine = cpu_per_gib("memmapfs")
if mine is not None and peers:
    met = "met" if mine <= min(peers) else "**missed**"
    lines.append(f"| daemon CPU s per GiB, cold read (memmapfs) | <= "
                 f"{min(peers):.2f} (best peer) | {mine:.2f} | {met} |")
for s, ns in notes.items():
    for n in ns:
        lines.append(f"\nNote for {s}: {n}.")

open(os.path.join(OUT, "table.md"), "w").write("\n".join(lines) + "\n")
json.dump(results, open(os.path.join(OUT, "results.json"), "w"), indent=1)

# the chart: ratio to native per workload (bars), one colour a system
dat = os.path.join(OUT, "ratios.dat")
shown = [s for s in systems if s != "native"]
with open(dat, "w") as f:
    f.write("workload " + " ".join(shown) + "\n")
    for w, _ in WORKLOADS:
        if w in results["workloads"]:
            f.write(w + " " + " ".join(
                f"{(results['workloads'][w].get(s) or {}).get('ratio') or 0:.3f}"
                for s in shown) + "\n")
gp = f"""
set terminal pngcairo size 1400,600 font ",10" noenhanced
set output '{os.path.join(OUT, 'chart.png')}'
set title "memmapfs and peers: speed relative to native (1.0), {machine['date']}"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 scale 0
set ylabel "ratio to native (higher is better)"
set yrange [0:*]
set key top left
set grid ytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 2 lc rgb "black"
plot for [i=2:{len(shown) + 1}] '{dat}' using i:xtic(1) title columnhead
"""
try:
    subprocess.run(["gnuplot"], input=gp.encode(), check=True)
except (OSError, subprocess.CalledProcessError) as e:
    print(f"report: no chart ({e})", file=sys.stderr)
print(open(os.path.join(OUT, "table.md")).read())

# BENCH_STRICT=1: a harness that silently drops a figure must fail. Every
# system asked for has every workload of this kind of run, in every pass,
# with a positive value (the tarball mix runs only in the full run).
if os.environ.get("BENCH_STRICT") == "1":
    expected = [w for w, _ in WORKLOADS
                if machine["quick"] == "no" or not w.startswith(("tar-", "rm-"))]
    if machine["passes"] == 0:  # BENCH_ONLY=cold
        expected = [w for w in expected if w in COLD]
    missing = []
    for s in machine.get("systems", "").split():
        for w in expected:
            passes = (machine.get("cold_passes", machine["passes"])
                      if w in COLD else machine["passes"])
            for p in range(1, passes + 1):
                r = by_pass.get((s, w), {}).get(p)
                if not r or not r["value"] or r["value"] <= 0:
                    missing.append(f"{s} {w} (pass {p})")
    if not machine.get("systems"):
        missing.append("machine.json names no systems")
    if missing:
        print("bench: figures missing: " + ", ".join(missing), file=sys.stderr)
        for s, ns in notes.items():
            for n in ns:
                print(f"bench: note for {s}: {n}", file=sys.stderr)
        sys.exit(1)
    print(f"bench: every figure present ({len(expected)} workloads, "
          f"{len(machine['systems'].split())} systems, {machine['passes']} "
          f"pass(es), {machine.get('cold_passes', machine['passes'])} of "
          "cold reads)")
