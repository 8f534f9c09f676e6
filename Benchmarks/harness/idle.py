"""How long a program waits idle: time in which none of its threads is running or ready to run.

    python3 Benchmarks/harness/idle.py [--cpu N] -- PROGRAM ARGS...

Runs the program under `perf sched record` (root or perf_event_paranoid ≤ 1), pinned to one CPU
with `taskset -c N` when `--cpu` is given, and reads the scheduler's trace back
(`perf sched timehist --state`): each thread is running, ready (woken, or preempted by another
process: state R), or asleep (S, D: waiting for a lock, another thread, I/O). The program is
idle when every one of its threads is asleep. Unlike wall ÷ CPU time, this does not depend on
how busy the machine is: time spent preempted by other processes counts as ready, not idle.
Prints the program's CPU time, its ready-but-preempted time and its idle time, in ms.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile


def intervals(lines: list[str], pid: int) -> tuple[list[tuple[float, float]], float, float, float, float]:
  """Ready-or-running intervals of the process's threads (seconds), its first and last event,
  its total run time and total delay (ready, not running), both in seconds."""
  busy: list[tuple[float, float]] = []
  last_state: dict[str, str] = {}
  start = float("inf")
  end = 0.0
  run_total = 0.0
  ready_total = 0.0
  for line in lines:
    f = line.split()
    if len(f) < 7 or not f[0][0].isdigit():
      continue
    task = f[2]
    if not (task.endswith(f"/{pid}]") or task.endswith(f"[{pid}]")):
      continue
    try:
      t, wait, delay, run = float(f[0]), float(f[3]) / 1000, float(f[4]) / 1000, float(f[5]) / 1000
    except ValueError:
      continue
    state = f[6] if len(f) > 6 else "S"
    tid = task.rsplit("[", 1)[1].split("/")[0].rstrip("]")
    began = t - run - delay - wait
    start = min(start, began if tid in last_state else t - run - delay)
    end = max(end, t)
    busy.append((t - run - delay, t))  # ready (woken) then running
    if last_state.get(tid) == "R":  # preempted: ready all the time it was off the CPU
      busy.append((began, t - run - delay))
      ready_total += wait
    run_total += run
    ready_total += delay
    last_state[tid] = state
  return busy, start, end, run_total, ready_total


def idle_time(busy: list[tuple[float, float]], start: float, end: float, gaps: list | None = None) -> float:
  covered = 0.0
  cur_a, cur_b = None, None
  for a, b in sorted(busy):
    a, b = max(a, start), min(b, end)
    if b <= a:
      continue
    if cur_b is None or a > cur_b:
      if cur_b is not None:
        covered += cur_b - cur_a
        if gaps is not None:
          gaps.append((cur_b, a))
      cur_a, cur_b = a, b
    else:
      cur_b = max(cur_b, b)
  if cur_b is not None:
    covered += cur_b - cur_a
  return max(0.0, (end - start) - covered)


def main(argv: list[str]) -> int:
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--cpu", type=int, help="pin the program to this CPU (taskset -c)")
  ap.add_argument("--verbose", action="store_true", help="list every idle gap of 0.5 ms or more")
  ap.add_argument("command", nargs=argparse.REMAINDER)
  args = ap.parse_args(argv)
  cmd = [a for a in args.command if a != "--"] if args.command[:1] == ["--"] else args.command
  if not cmd:
    ap.error("no program given")
  program = os.path.basename(cmd[0])[:15]
  if args.cpu is not None:
    cmd = ["taskset", "-c", str(args.cpu)] + cmd
  with tempfile.TemporaryDirectory() as tmp:
    data = os.path.join(tmp, "sched.data")
    rec = subprocess.run(["perf", "sched", "record", "-o", data, "--"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if rec.returncode != 0:
      sys.stderr.write(rec.stderr.decode(errors="replace")[-2000:])
      return 2
    out = subprocess.run(["perf", "sched", "timehist", "-i", data, "--state"], capture_output=True, text=True).stdout.splitlines()
    # The forked child shows as perf-exec, then as what it execs (taskset, then the program).
    names = ("perf-exec[", os.path.basename(cmd[0])[:15] + "[", program + "[")
    pid = None
    for line in out:
      f = line.split()
      if len(f) > 2 and f[2].startswith(names) and "/" not in f[2]:
        pid = int(f[2].split("[")[1].rstrip("]"))
        break
    if pid is None:
      print("idle.py: the program's process was not found in the trace", file=sys.stderr)
      return 2
    busy, start, end, run, ready = intervals(out, pid)
    gaps: list = []
    idle = idle_time(busy, start, end, gaps)
    if args.verbose:
      for a, b in gaps:
        if b - a >= 0.0005:
          print(f"idle {1000 * (b - a):.2f} ms from +{1000 * (a - start):.1f} ms")
    print(f"lifetime {1000 * (end - start):.1f} ms: cpu {1000 * run:.1f} ms, ready but not running {1000 * ready:.1f} ms, "
          f"idle (every thread asleep) {1000 * idle:.1f} ms")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
