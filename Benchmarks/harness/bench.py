"""hk's benchmark harness (issue 7): builds everything in release mode, measures the five targets
as ratios within one run and prints a table with PASS/FAIL per target.

Run it through `scripts/bench` (see `scripts/bench --help` and docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import genrepo  # noqa: E402
from measure import BenchError, Program, interleave, peak_rss_kb, ratio, run_captured, run_once  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))  # the hk package
BENCH_PKG = os.path.join(ROOT, "Benchmarks")


def log(msg: str) -> None:
  print(f"bench: {msg}", file=sys.stderr, flush=True)


class Paths:
  """Where the builds and the scratch data go (every build folder starts with the prefix)."""

  def __init__(self, prefix: str, work: str | None, static_stdlib: bool = False):
    self.prefix = prefix if os.path.isabs(prefix) else os.path.join(ROOT, prefix)
    self.main_scratch = self.prefix + "-release"  # hk and fake-kops, release
    # hk linked with --static-swift-stdlib gets its own folder: switching the flag in one folder
    # rebuilds everything, and fake-kops cannot link statically (FoundationNetworking needs a
    # static libcurl)
    self.static_scratch = self.prefix + "-static"
    self.hk_scratch = self.static_scratch if static_stdlib else self.main_scratch
    self.pkg_scratch = self.prefix + "-pkg"  # the Benchmarks package
    self.work = work or (self.prefix + "-work")
    self.bin = os.path.join(self.main_scratch, "release")
    self.hk = os.path.join(self.hk_scratch, "release", "hk")
    # P5 measures hk as it ships (one file, no Swift runtime needed: --static-swift-stdlib) and,
    # for comparison, the dynamically linked build the other targets use
    self.hk_static = os.path.join(self.static_scratch, "release", "hk")
    self.hk_dynamic = os.path.join(self.main_scratch, "release", "hk")
    self.fake_kops = os.path.join(self.bin, "fake-kops")
    self.c_reference = os.path.join(self.pkg_scratch, "libyaml-events")

  def pkg_bin(self, config: str) -> str:
    return os.path.join(self.pkg_scratch, config)


# MARK: building


def timed(argv: list[str], what: str, cwd: str = ROOT) -> float:
  log(f"building {what}: {' '.join(argv)}")
  start = time.monotonic()
  r = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
  took = time.monotonic() - start
  if r.returncode != 0:
    sys.stderr.write(r.stdout[-6000:])
    raise BenchError(f"building {what} failed (exit {r.returncode})")
  warnings = [line for line in r.stdout.splitlines() if "warning:" in line and "/swift_static/" not in line]
  for w in warnings[:20]:
    log(w)
  log(f"built {what} in {took:.0f} s")
  return took


def build_c_reference(paths: Paths) -> None:
  os.makedirs(paths.pkg_scratch, exist_ok=True)
  timed(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", paths.c_reference,
         os.path.join(BENCH_PKG, "Reference", "libyaml_events.c"), "-lyaml"], "the libyaml reference (cc)")


def build_all(paths: Paths, static_stdlib: bool, targets: list[str]) -> dict:
  """Release builds of hk (as it ships, --static-swift-stdlib, for every target; dynamic for P5's
  comparison and --dynamic-hk), fake-kops, the Benchmarks package and the C reference."""
  took = {}
  if static_stdlib or "P5" in targets:
    took["hk static"] = timed(["swift", "build", "-c", "release", "--scratch-path", paths.static_scratch, "--product", "hk",
                               "--static-swift-stdlib"], "hk (release, --static-swift-stdlib)")
  if not static_stdlib or "P5" in targets:
    took["hk"] = timed(["swift", "build", "-c", "release", "--scratch-path", paths.main_scratch, "--product", "hk"],
                       "hk (release)")
  took["fake-kops"] = timed(["swift", "build", "-c", "release", "--scratch-path", paths.main_scratch, "--product", "fake-kops"],
                            "fake-kops (release)")
  took["Benchmarks"] = timed(
      ["swift", "build", "--package-path", BENCH_PKG, "-c", "release", "--scratch-path", paths.pkg_scratch],
      "the Benchmarks package (release)")
  build_c_reference(paths)
  return took


def build_only(paths: Paths) -> int:
  """CI: builds the Benchmarks package (debug: it is compiled, not timed), the C reference, and
  smoke-runs the pieces on a 6-environment repository. Times nothing."""
  start = time.monotonic()
  timed(["swift", "build", "--package-path", BENCH_PKG, "--scratch-path", paths.pkg_scratch],
        "the Benchmarks package (debug)")
  build_c_reference(paths)
  smoke = tempfile.mkdtemp(prefix="hk-bench-smoke-")
  try:
    summary = genrepo.generate(smoke, 6)
    names = summary["names"]
    listing = os.path.join(smoke, "files.txt")
    with open(listing, "w") as f:
      f.write("\n".join(genrepo.files_hk_reads(smoke, names)) + "\n")
    debug = paths.pkg_bin("debug")
    out = run_captured([paths.c_reference, listing]).stdout.strip()
    log(f"smoke: libyaml reference: {out}")
    out = run_captured([os.path.join(debug, "bench-yams-compose"), listing]).stdout.strip()
    log(f"smoke: Yams compose: {out}")
    out = run_captured([os.path.join(debug, "bench-seed-state"), smoke, os.path.join(smoke, "hk.sqlite")] + names[1::2]).stdout.strip()
    log(f"smoke: seeded state through hk's Store: {out}")
    run_captured([os.path.join(debug, "bench-hello")])
  finally:
    shutil.rmtree(smoke, ignore_errors=True)
  log(f"build-only done in {time.monotonic() - start:.0f} s (nothing was timed)")
  return 0


# MARK: results


class Result:
  def __init__(self, target: str, title: str):
    self.target = target
    self.title = title
    self.rows: list[tuple[str, str]] = []  # (figure, value)
    self.verdict = "n/a"
    self.summary = ""
    self.notes: list[str] = []

  def row(self, figure: str, value: str) -> None:
    self.rows.append((figure, value))


def fmt_s(x: float) -> str:
  return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def machine() -> dict:
  info = {"kernel": platform.release(), "cpus": os.cpu_count()}
  try:
    with open("/proc/cpuinfo") as f:
      for line in f:
        if line.startswith("model name"):
          info["cpu"] = line.split(":", 1)[1].strip()
          break
    with open("/proc/meminfo") as f:
      info["memory"] = f"{int(f.readline().split()[1]) // 1024 // 1024} GiB"
    with open("/proc/loadavg") as f:
      info["load"] = " ".join(f.read().split()[:3])
  except OSError:
    pass
  try:
    info["swift"] = run_captured(["swift", "--version"]).stdout.splitlines()[0]
  except (BenchError, OSError, IndexError):
    pass
  try:
    with open("/etc/os-release") as f:
      for line in f:
        if line.startswith("PRETTY_NAME="):
          info["os"] = line.split("=", 1)[1].strip().strip('"')
  except OSError:
    pass
  try:
    info["libyaml"] = run_captured(["pkg-config", "--modversion", "yaml-0.1"]).stdout.strip()
  except (BenchError, OSError):
    pass
  try:
    info["pyyaml"] = run_captured([sys.executable, "-c", "import yaml; print(yaml.__version__, yaml.__with_libyaml__)"]).stdout.strip()
  except (BenchError, OSError):
    pass
  return info


# MARK: P1 plan throughput


def one_cpu() -> list[str]:
  """The prefix that runs a program on one CPU, as a one-vCPU runner would: `taskset -c N`, N
  the first CPU this process may use."""
  return ["taskset", "-c", str(min(os.sched_getaffinity(0)))]


class Workload:
  """One P1 repository: hk plan on every CPU and on one, hk validate, and the libyaml floor on
  both core counts (the same files, in hk's order)."""

  def __init__(self, key: str, title: str, work: str, envs: int, small: bool, record: bool, paths: Paths, one: list[str]):
    self.key = key
    self.title = title
    self.envs = envs
    os.makedirs(work)
    self.summary = genrepo.generate(work, envs, small=small)
    names = self.summary["names"]
    self.files = genrepo.files_hk_reads(work, names)
    listing = os.path.join(work, "files.txt")
    with open(listing, "w") as f:
      f.write("\n".join(self.files) + "\n")
    self.bytes = sum(os.path.getsize(p) for p in self.files)
    db = os.path.join(work, "state", "hk.sqlite")
    self.recorded = names[1::2] if record else []
    if record:
      out = run_captured([os.path.join(paths.pkg_bin("release"), "bench-seed-state"), work, db] + self.recorded).stdout.strip()
      log(f"P1 {key}: seeded state: {out}")
    # Nothing recorded: a state database that does not exist (hk plan reads it as empty).
    env = dict(os.environ, NO_COLOR="1")
    self.plan = Program(f"hk plan, {key}", [paths.hk, "plan", "--root", work, "--state-db", db], cwd=work, env=env)
    self.plan1 = Program(f"hk plan, {key}, 1 CPU", one + self.plan.argv, cwd=work, env=env)
    self.validate = Program(f"hk validate, {key}", [paths.hk, "validate", "--root", work], cwd=work, env=env)
    self.c = Program(f"libyaml events (C), {key}", [paths.c_reference, listing])
    self.c1 = Program(f"libyaml events (C), {key}, 1 CPU", one + self.c.argv)
    self.listing = listing
    log(f"P1 {key}: generated {envs} environments (mean cluster.yaml with base "
        f"{self.summary['mean_cluster_lines_with_base']:.0f} lines, {self.summary['instance_groups'][0]}-"
        f"{self.summary['instance_groups'][1]} IGs), {len(self.files)} files, {self.bytes / 1e6:.1f} MB")

  def programs(self) -> list[Program]:
    return [self.plan, self.plan1, self.validate, self.c, self.c1]

  def check(self) -> None:
    """The work was done: every environment planned (against recorded state or created), every
    one validated without errors, every file parsed by the floor."""
    for p in (self.plan, self.plan1):
      _, text = run_once(p, capture=True)
      planned = text.count("\nEnvironment ") + (1 if text.startswith("Environment ") else 0)
      if planned != self.envs:
        raise BenchError(f"P1: {p.name} printed {planned} environments, expected {self.envs}")
      self.seen = text.count("recorded serial 1")
      if not self.recorded and self.seen:
        raise BenchError(f"P1: {p.name} planned against recorded state")
    _, text = run_once(self.validate, capture=True)
    if f"{self.envs} environments checked: 0 errors" not in text:
      raise BenchError(f"P1: {self.validate.name} did not check {self.envs} environments without errors: {text[-300:]}")
    for p in (self.c, self.c1):
      _, o = run_once(p, capture=True)
      if f"files={len(self.files)}" not in o:
        raise BenchError(f"P1: {p.name} did not parse every file: {o.strip()}")

  def describe(self) -> str:
    s = self.summary
    state = f"state for {len(self.recorded)} ({self.seen} planned against it)" if self.recorded else "nothing recorded: every object a create"
    return (f"{self.envs} envs, {len(self.files)} files, {self.bytes / 1e6:.1f} MB, {s['mean_cluster_lines_with_base']:.0f} lines/cluster "
            f"incl. base, {s['instance_groups'][0]}-{s['instance_groups'][1]} IGs, {state}")


def p1_plan(paths: Paths, envs: int, rounds: int) -> list[Result]:
  """P1 (wall), P1-cpu and P1-validate from one set of interleaved rounds over two workloads:
  `recorded` (the 291-line environments with manifests, state recorded for half of them) and
  `all-create` (a new user's small environments, nothing recorded: every object a create).
  Each: hk plan on every CPU and on one (`taskset -c`), hk validate, the libyaml floor on both
  core counts; Yams and PyYAML on the first workload for comparison."""
  res = Result("P1", f"plan throughput, {envs} environments, two workloads, all CPUs and 1")
  res_cpu = Result("P1-cpu", f"plan CPU time (user+sys), {envs} environments, two workloads")
  res_val = Result("P1-validate", f"hk validate, {envs} environments, two workloads")
  shutil.rmtree(os.path.join(paths.work, "p1"), ignore_errors=True)
  one = one_cpu()
  loads = [Workload("recorded", "recorded state for half", os.path.join(paths.work, "p1", "recorded"), envs, False, True, paths, one),
           Workload("all-create", "small, nothing recorded", os.path.join(paths.work, "p1", "all-create"), envs, True, False, paths, one)]
  first = loads[0]
  yams = Program("Yams compose, recorded", [os.path.join(paths.pkg_bin("release"), "bench-yams-compose"), first.listing])
  py = Program("PyYAML CSafeLoader, recorded", [sys.executable, os.path.join(BENCH_PKG, "Reference", "pyyaml_csafe.py"), first.listing])
  for w in loads:
    w.check()
  for p in (yams, py):
    _, o = run_once(p, capture=True)
    if f"files={len(first.files)}" not in o:
      raise BenchError(f"P1: {p.name} did not parse every file: {o.strip()}")
  for w in loads:
    for p in (w.plan, w.validate, w.c):
      p.peak_rss_kb = peak_rss_kb(p)
  programs = [p for w in loads for p in w.programs()] + [yams, py]
  interleave(programs, rounds, warmup=0,
             progress=lambda r, n: log(f"P1: round {r}/{n}: " + ", ".join(
                 f"{w.key} {fmt_s(w.plan.samples[-1].wall)} (1 CPU {fmt_s(w.plan1.samples[-1].wall)}, C {fmt_s(w.c.samples[-1].wall)})"
                 for w in loads)))
  res.row("1 CPU", f"`{' '.join(one)}` before the program (hk and the C reference alike)")
  ok = True
  worst = 0.0
  for w in loads:
    res.row(f"workload {w.key}", w.describe())
  for w in loads:
    for p in w.programs():
      rss = f", {p.peak_rss_kb / 1024:.0f} MB" if p.peak_rss_kb else ""
      res.row(f"{p.name}: median wall / cpu{', peak RSS' if rss else ''}", f"{fmt_s(p.median_wall())} / {fmt_s(p.median_cpu())}{rss}")
  for p in (yams, py):
    res.row(f"{p.name}: median wall / cpu", f"{fmt_s(p.median_wall())} / {fmt_s(p.median_cpu())}")
  for w in loads:
    for p, floor in ((w.plan, w.c), (w.plan1, w.c1)):
      r = ratio(p.median_wall(), floor.median_wall())
      worst = max(worst, r)
      ok = ok and r <= 3.0
      res.row(f"{p.name} ÷ libyaml (wall)", f"{r:.2f}× (target ≤ 3.00×)")
  res.row("hk plan, recorded ÷ Yams compose (wall)", f"{ratio(first.plan.median_wall(), yams.median_wall()):.2f}×")
  res.row("hk plan, recorded ÷ PyYAML CSafeLoader (wall)", f"{ratio(first.plan.median_wall(), py.median_wall()):.2f}×")
  rss_mb = max(w.plan.peak_rss_kb for w in loads) / 1024
  res.row("hk plan peak RSS (larger of the two)", f"{rss_mb:.0f} MB (target ≤ 150 MB)")
  ok = ok and rss_mb <= 150
  res.verdict = "PASS" if ok else "FAIL"
  res.summary = f"worst {worst:.2f}× libyaml (≤ 3×) over both workloads on all CPUs and on 1, {rss_mb:.0f} MB (≤ 150 MB)"
  res.raw = {f"{w.key}/{p.name}": p.samples for w in loads for p in w.programs()}  # type: ignore[attr-defined]
  res.raw.update({"yams": yams.samples, "pyyaml": py.samples})  # type: ignore[attr-defined]

  # P1-cpu: hk's user+sys against the floor's (CPU time barely depends on how many cores run
  # it, so it is the steady figure on a loaded machine); cpu ÷ wall on one CPU near 1 says hk
  # never waits idle there.
  ok = True
  worst = 0.0
  for w in loads:
    for p, floor, counted in ((w.plan, w.c, True), (w.plan1, w.c1, False)):
      r = ratio(p.median_cpu(), floor.median_cpu())
      if counted:
        worst = max(worst, r)
        ok = ok and r <= 3.0
      res_cpu.row(f"{p.name} ÷ libyaml (cpu)", f"{r:.2f}×" + (" (target ≤ 3.00×)" if counted else ""))
    res_cpu.row(f"{w.plan1.name}: cpu ÷ wall", f"{ratio(w.plan1.median_cpu(), w.plan1.median_wall()):.2f}")
  res_cpu.verdict = "PASS" if ok else "FAIL"
  res_cpu.summary = f"worst {worst:.2f}× libyaml's CPU time (≤ 3×), both workloads"

  ok = True
  worst = 0.0
  for w in loads:
    r = ratio(w.validate.median_wall(), w.c.median_wall())
    worst = max(worst, r)
    ok = ok and r <= 2.0
    res_val.row(f"{w.validate.name} ÷ libyaml (wall)", f"{r:.2f}× (target ≤ 2.00×)")
    res_val.row(f"{w.validate.name} ÷ libyaml (cpu)", f"{ratio(w.validate.median_cpu(), w.c.median_cpu()):.2f}×")
  res_val.verdict = "PASS" if ok else "FAIL"
  res_val.summary = f"worst {worst:.2f}× libyaml (≤ 2×), both workloads"
  return [res, res_cpu, res_val]


# MARK: P6 state backends


def p6_state_backends(paths: Paths, envs: int, rounds: int) -> Result:
  """`hk plan` over `envs` environments, all with recorded state, read from PostgreSQL on
  loopback (scripts/pg-test-server) vs the same state in SQLite, interleaved in one run."""
  res = Result("P6", f"plan over {envs} environments: state in PostgreSQL (loopback) vs SQLite")
  work = os.path.join(paths.work, "p6")
  shutil.rmtree(work, ignore_errors=True)
  os.makedirs(work)
  summary = genrepo.generate(work, envs)
  names = summary["names"]
  db = os.path.join(work, "state", "hk.sqlite")
  out = run_captured([os.path.join(paths.pkg_bin("release"), "bench-seed-state"), work, db] + names).stdout.strip()
  log(f"P6: generated {envs} environments; seeded state for all of them: {out}")
  server = os.path.join(ROOT, "scripts", "pg-test-server")
  pg_dir = tempfile.mkdtemp(prefix="hk-bench-pg-", dir="/tmp")
  url = run_captured([server, "start", pg_dir]).stdout.strip()
  try:
    env = dict(os.environ, NO_COLOR="1")
    run_captured([paths.hk, "state", "migrate", "--root", work, "--state-db", db, "--to", url], cwd=work, env=env)
    sq = Program("hk plan, state in SQLite", [paths.hk, "plan", "--root", work, "--state-db", db], cwd=work, env=env)
    pg = Program("hk plan, state in PostgreSQL", [paths.hk, "plan", "--root", work, "--state-db", url], cwd=work, env=env)
    # The same work: both plans are the same text.
    _, text_sq = run_once(sq, capture=True)
    _, text_pg = run_once(pg, capture=True)
    if text_sq != text_pg:
      raise BenchError("P6: hk plan printed different plans from SQLite and PostgreSQL")
    interleave([sq, pg], rounds, warmup=1,
               progress=lambda r, n: log(f"P6: round {r}/{n}: SQLite {fmt_s(sq.samples[-1].wall)}, PostgreSQL {fmt_s(pg.samples[-1].wall)}"))
  finally:
    subprocess.run([server, "stop", pg_dir], capture_output=True)
    shutil.rmtree(pg_dir, ignore_errors=True)
  r_wall = ratio(pg.median_wall(), sq.median_wall())
  for p in (sq, pg):
    res.row(f"{p.name}: median wall / cpu", f"{fmt_s(p.median_wall())} / {fmt_s(p.median_cpu())}")
  res.row("PostgreSQL ÷ SQLite (wall)", f"{r_wall:.2f}× (target ≤ 1.30×)")
  res.verdict = "PASS" if r_wall <= 1.3 else "FAIL"
  res.summary = f"{r_wall:.2f}× SQLite (≤ 1.3×)"
  res.raw = {"sqlite": sq.samples, "postgres": pg.samples}  # type: ignore[attr-defined]
  return res


# MARK: P5 start-up


def p5_startup(paths: Paths, rounds: int) -> Result:
  """hk as it ships (linked with --static-swift-stdlib, README "Install") is the verdict; the
  dynamically linked build is measured in the same rounds for comparison."""
  res = Result("P5", "start-up: hk --help vs a bare Swift executable")
  hk = Program("hk --help (as shipped: --static-swift-stdlib)", [paths.hk_static, "--help"])
  dyn = Program("hk --help (dynamically linked)", [paths.hk_dynamic, "--help"])
  hello = Program("bare Swift executable", [os.path.join(paths.pkg_bin("release"), "bench-hello")])
  programs = [hk, dyn, hello] if os.path.exists(paths.hk_dynamic) else [hk, hello]
  for p in programs:
    p.peak_rss_kb = peak_rss_kb(p)
  interleave(programs, rounds, warmup=3)
  r = ratio(hk.median_wall(), hello.median_wall())
  for p in programs:
    res.row(f"{p.name}: median wall / cpu, peak RSS",
            f"{fmt_s(p.median_wall())} / {fmt_s(p.median_cpu())}, {p.peak_rss_kb / 1024:.0f} MB")
  res.row("hk --help as shipped ÷ bare executable (wall)", f"{r:.2f}× (target ≤ 2.00×)")
  res.row("hk --help as shipped ÷ bare executable (cpu)", f"{ratio(hk.median_cpu(), hello.median_cpu()):.2f}×")
  if dyn in programs:
    res.row("hk --help dynamically linked ÷ bare executable (wall)", f"{ratio(dyn.median_wall(), hello.median_wall()):.2f}× (not shipped)")
  res.verdict = "PASS" if r <= 2.0 else "FAIL"
  res.summary = f"{r:.2f}× a bare Swift executable (≤ 2×), hk as shipped"
  return res


# MARK: report


def table(results: list[Result], info: dict, started: float, args) -> str:
  lines = []
  lines.append("| target | verdict | figure |")
  lines.append("| --- | --- | --- |")
  for r in results:
    lines.append(f"| {r.target} {r.title} | **{r.verdict}** | {r.summary} |")
  lines.append("")
  for r in results:
    lines.append(f"### {r.target}: {r.title}")
    lines.append("")
    lines.append("| figure | value |")
    lines.append("| --- | --- |")
    for k, v in r.rows:
      lines.append(f"| {k} | {v} |")
    for n in r.notes:
      lines.append("")
      lines.append(n)
    lines.append("")
  lines.append("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
  lines.append("")
  lines.append(f"Run: `scripts/bench {' '.join(args)}` took {time.monotonic() - started:.0f} s.")
  return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
  ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
  ap.add_argument("--build-only", action="store_true", help="build the benchmark programs (debug) and smoke-run them; time nothing (CI)")
  ap.add_argument("--skip-build", action="store_true", help="use the binaries of an earlier run")
  ap.add_argument("--targets", default="P1,P2,P3,P4,P5,P6", help="comma-separated subset of P1..P6")
  ap.add_argument("--scratch", default=".build-bench",
                  help="prefix of the build folders (default .build-bench: -static, -release, -pkg, -work)")
  ap.add_argument("--work", help="scratch data folder (default PREFIX-work)")
  ap.add_argument("--envs", type=int, default=1000, help="P1: environments in the generated repository")
  ap.add_argument("--rounds", type=int, default=7, help="P1: interleaved rounds (median of them)")
  ap.add_argument("--startup-rounds", type=int, default=41, help="P5: interleaved rounds")
  ap.add_argument("--dynamic-hk", action="store_true",
                  help="measure P1-P4 and P6 with hk dynamically linked instead of as it ships (--static-swift-stdlib; P5 measures both)")
  ap.add_argument("--markdown", help="also write the table to this file")
  ap.add_argument("--json", help="also write the raw samples to this file")
  args = ap.parse_args(argv)
  # hk is measured as it ships (README "Install": --static-swift-stdlib) unless --dynamic-hk
  static_hk = not args.dynamic_hk
  paths = Paths(args.scratch, args.work, static_hk)
  try:
    if args.build_only:
      return build_only(paths)
    started = time.monotonic()
    if not args.skip_build:
      build_all(paths, static_hk,
                [t.strip().upper() for t in args.targets.split(",") if t.strip()])
    os.makedirs(paths.work, exist_ok=True)
    targets = [t.strip().upper() for t in args.targets.split(",") if t.strip()]
    results: list[Result] = []
    for t in targets:
      if t == "P1":
        results += p1_plan(paths, args.envs, args.rounds)
      elif t == "P5":
        results.append(p5_startup(paths, args.startup_rounds))
      elif t == "P6":
        results.append(p6_state_backends(paths, args.envs, args.rounds))
      elif t in ("P2", "P3"):
        import world  # noqa: PLC0415  (needs moto and the aws CLI)
        if any(r.target in ("P2", "P3") for r in results):
          continue  # one change matrix gives both
        results += world.p2_p3_apply(paths, Result, log)
      elif t == "P4":
        import world  # noqa: PLC0415
        results.append(world.p4_drift(paths, Result, log))
      else:
        raise BenchError(f"unknown target {t}")
    for r in results:
      log(f"{r.target}: {r.verdict}: {r.summary}")
    report = table(results, machine(), started, argv)
    print(report)
    if args.markdown:
      with open(args.markdown, "w") as f:
        f.write(report)
    if args.json:
      with open(args.json, "w") as f:
        json.dump({r.target: {"verdict": r.verdict, "rows": r.rows,
                              "raw": {k: [s.__dict__ for s in v] for k, v in getattr(r, "raw", {}).items()}}
                   for r in results}, f, indent=1)
    return 0 if all(r.verdict in ("PASS", "n/a") for r in results) else 1
  except BenchError as e:
    log(f"error: {e}")
    return 2


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
