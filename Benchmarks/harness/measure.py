"""Timing helpers for hk's benchmarks: one child process at a time, wall and CPU time and peak RSS
from the kernel (wait4's rusage, the figure `/usr/bin/time -v` prints as "Maximum resident set
size"), interleaved rounds and medians.

The machine is shared (2 cores, other builds running), so no figure is compared with an absolute
threshold: every target is a ratio of two programs measured in the same rounds, alternating.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass, field


@dataclass
class Sample:
  wall: float  # seconds
  cpu: float  # user + system seconds of the child
  rss_kb: int  # wait4's ru_maxrss, KiB (inflated by the parent below ~25 MB; see peak_rss_kb)
  exit: int


@dataclass
class Program:
  """A command measured by `interleave`; `check` validates its stdout once (the work was done)."""
  name: str
  argv: list[str]
  cwd: str | None = None
  env: dict[str, str] | None = None
  stdout: str | None = None  # a file to write stdout to; None: /dev/null
  samples: list[Sample] = field(default_factory=list)

  def median_wall(self) -> float:
    return statistics.median(s.wall for s in self.samples)

  def median_cpu(self) -> float:
    return statistics.median(s.cpu for s in self.samples)

  peak_rss_kb: int = 0  # from `/usr/bin/time -v` (see peak_rss_kb())


class BenchError(Exception):
  pass


def run_once(p: Program, capture: bool = False) -> tuple[Sample, str]:
  """Runs `p` once; returns the sample and (when `capture`) its stdout."""
  with tempfile.TemporaryFile() as err:
    out = subprocess.PIPE if capture else (open(p.stdout, "wb") if p.stdout else subprocess.DEVNULL)
    start = time.perf_counter()
    proc = subprocess.Popen(p.argv, cwd=p.cwd, env=p.env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    text = proc.stdout.read() if capture and proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if capture and proc.stdout:
      proc.stdout.close()
    elif out is not subprocess.DEVNULL:
      out.close()
    if proc.returncode != 0:
      err.seek(0)
      message = err.read().decode(errors="replace")[-2000:]
      raise BenchError(f"{p.name}: {' '.join(p.argv)} exited {proc.returncode}: {message}")
  return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, proc.returncode), text.decode(errors="replace")


def run_captured(argv: list[str], cwd: str | None = None, env: dict[str, str] | None = None,
                 check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
  """Runs a set-up command (not measured), capturing its output."""
  r = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
  if check and r.returncode != 0:
    raise BenchError(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
  return r


def peak_rss_kb(p: Program) -> int:
  """Peak RSS of one run of `p` as `/usr/bin/time -v` reports it ("Maximum resident set size").

  Not taken from the timed runs: a child forked from this Python process starts with the
  parent's pages counted in its high-water mark, so small programs would read as large as it.
  """
  with tempfile.NamedTemporaryFile("r") as report:
    q = Program(p.name, ["/usr/bin/time", "-v", "-o", report.name] + p.argv, p.cwd, p.env, p.stdout)
    run_once(q)
    for line in report.read().splitlines():
      if "Maximum resident set size" in line:
        return int(line.rsplit(":", 1)[1])
  raise BenchError(f"/usr/bin/time -v printed no maximum resident set size for {p.name}")


def measure(p: Program) -> Sample:
  s, _ = run_once(p)
  p.samples.append(s)
  return s


def interleave(programs: list[Program], rounds: int, warmup: int = 1, progress=None, seed: int = 15) -> None:
  """Runs every program `warmup` times (not recorded), then `rounds` rounds in which each runs
  once, in an order shuffled every round (seeded: the same orders every run), so no program
  always follows the same neighbour.

  What ran just before matters: on a virtual machine whose balloon device reports free pages
  (VIRTIO_BALLOON_F_REPORTING, as here), memory a process freed goes back to the host after a
  second or so, and the next process to touch that much memory pays for getting it back in its
  own system time. `hk plan` (recorded) took 40-110 ms more system time right after a PyYAML or
  Yams run, or after 1-3 s idle, than right after another `hk plan`. A rotation keeps every program's neighbour (it only
  moves where the cycle starts), so one program always paid that and its neighbour never did
  (docs/PERFORMANCE.md, issue 15, seventh round)."""
  for _ in range(warmup):
    for p in programs:
      run_once(p)
  rng = random.Random(seed)
  for r in range(rounds):
    order = list(programs)
    rng.shuffle(order)
    for p in order:
      measure(p)
    if progress:
      progress(r + 1, rounds)


def ratio(a: float, b: float) -> float:
  return a / b if b > 0 else float("inf")
