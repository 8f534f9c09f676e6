"""P2-P4: hk apply and hk drift against the kops double (fake-kops, a separate process) and a real
AWS API (moto_server on loopback, driven by hk through the real aws CLI), with a real SQLite file.

The set-up imitates Tests/EndToEndTests/World.swift: a copy of the sample environments with real
VPC and gateway IDs from moto, one kops wrapper per version (`kopsPath`), AWS profiles with moto's
test credentials. Every figure here is a count or a ratio, never an absolute time.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from measure import BenchError, run_captured

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# MARK: moto


class Moto:
  """`moto_server -H 127.0.0.1 -p PORT` in its own process group, stopped by `stop()`."""

  def __init__(self, work: str, region: str = "ap-northeast-1"):
    self.region = region
    moto = shutil.which("moto_server")
    if not moto or not shutil.which("aws"):
      raise BenchError("moto_server and the aws CLI are needed for P2-P4: pip install 'moto[server]' awscli")
    with socket.socket() as s:
      s.bind(("127.0.0.1", 0))
      self.port = s.getsockname()[1]
    self.log = open(os.path.join(work, "moto.log"), "wb")
    self.proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(self.port)], stdout=self.log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
      if self.proc.poll() is not None:
        raise BenchError(f"moto_server exited {self.proc.returncode}; see {self.log.name}")
      try:
        urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=2).read()
        return
      except OSError:
        time.sleep(0.2)
    self.stop()
    raise BenchError("moto_server did not answer within 60 s")

  @property
  def endpoint(self) -> str:
    return f"http://127.0.0.1:{self.port}"

  @property
  def environment(self) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": self.region, "AWS_EC2_METADATA_DISABLED": "true"}

  def ec2(self, action: str, **params: str) -> str:
    """One EC2 Query API call (the CLI's request minus the signature moto does not check)."""
    body = urllib.parse.urlencode({"Action": action, "Version": "2016-11-15", **params}).encode()
    req = urllib.request.Request(self.endpoint, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20240101/{self.region}/ec2/aws4_request, SignedHeaders=host, Signature=0"})
    with urllib.request.urlopen(req, timeout=30) as r:
      return r.read().decode()

  def element(self, tag: str, xml: str) -> str:
    m = re.search(f"<{tag}>([^<]*)</{tag}>", xml)
    if not m:
      raise BenchError(f"moto: no <{tag}> in {xml[:500]}")
    return m.group(1)

  def create_vpc(self, cidr: str) -> str:
    return self.element("vpcId", self.ec2("CreateVpc", CidrBlock=cidr))

  def create_igw(self) -> str:
    return self.element("internetGatewayId", self.ec2("CreateInternetGateway"))

  def stop(self) -> None:
    if self.proc.poll() is None:
      os.killpg(self.proc.pid, signal.SIGTERM)
      try:
        self.proc.wait(10)
      except subprocess.TimeoutExpired:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
    self.log.close()


# MARK: the world


class World:
  """A temporary GitOps repository, moto, the kops double and a state file."""

  SAMPLES = {  # name: (VPC CIDR, the sample's VPC id, the sample's IGW id or None, kops version)
      "dev": ("10.10.0.0/16", "vpc-0a11d2e3f4a5b6c7d", "igw-0a1b2c3d4e5f60718", "1.23.4"),
      "staging": ("10.20.0.0/16", "vpc-0b22d2e3f4a5b6c7d", "igw-0f9e8d7c6b5a49382", "1.23.4"),
      "prod": ("10.30.0.0/16", "vpc-0c33d2e3f4a5b6c7d", None, "1.28.4"),
  }

  def __init__(self, paths, work: str, moto: Moto, kops_sleep: float | None = None):
    self.paths = paths
    self.dir = work
    self.moto = moto
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    self.root = os.path.join(work, "repo")
    self.state_db = os.path.join(self.root, "state", "hk.sqlite")
    self.kops_dir = os.path.join(work, "kops")
    self.s3 = os.path.join(self.kops_dir, "s3")
    self.log_path = os.path.join(self.kops_dir, "fake-kops.log")
    os.makedirs(os.path.join(self.kops_dir, "home"))
    os.makedirs(self.s3)
    os.makedirs(self.root)
    self.kops_sleep = kops_sleep
    # One kops binary per version, as teams install them (kopsPath in environment.yaml).
    os.makedirs(os.path.join(work, "bin"))
    for v in ("1.23.4", "1.23.5", "1.28.4", "1.28.5"):
      path = os.path.join(work, "bin", f"kops-{v}")
      with open(path, "w") as f:
        f.write(f"#!/bin/sh\nFAKE_KOPS_VERSION={v} exec '{paths.fake_kops}' \"$@\"\n")
      os.chmod(path, 0o755)
    self.profiles: list[str] = []

  def kops_wrapper(self, version: str) -> str:
    return os.path.join(self.dir, "bin", f"kops-{version}")

  def write_aws_profiles(self) -> None:
    os.makedirs(os.path.join(self.dir, "aws"), exist_ok=True)
    with open(os.path.join(self.dir, "aws", "config"), "w") as f:
      f.write("".join(f"[profile {p}]\nregion = ap-northeast-1\n\n" for p in self.profiles))
    with open(os.path.join(self.dir, "aws", "credentials"), "w") as f:
      f.write("".join(f"[{p}]\naws_access_key_id = testing\naws_secret_access_key = testing\n\n" for p in self.profiles))

  def copy_samples(self) -> None:
    """The project's sample environments with moto's VPC and gateway IDs and a kopsPath each."""
    shutil.copytree(os.path.join(ROOT, "environments"), os.path.join(self.root, "environments"))
    for name, (cidr, sample_vpc, sample_igw, kops) in self.SAMPLES.items():
      vpc = self.moto.create_vpc(cidr)
      os.makedirs(os.path.join(self.s3, f"corp-kops-state-{name}"), exist_ok=True)
      self.replace(f"environments/{name}/cluster.yaml", sample_vpc, vpc)
      if sample_igw:
        self.replace(f"environments/{name}/environment.yaml", sample_igw, self.moto.create_igw())
      self.append(f"environments/{name}/environment.yaml", f"kopsPath: {self.kops_wrapper(kops)}\n")
      self.profiles.append(f"corp-{name}")
    self.write_aws_profiles()

  def replace(self, rel: str, old: str, new: str, count: int = 1) -> None:
    path = os.path.join(self.root, rel)
    text = open(path).read()
    if old not in text:
      raise BenchError(f"{rel} has no {old!r}")
    with open(path, "w") as f:
      f.write(text.replace(old, new, count))

  def append(self, rel: str, text: str) -> None:
    path = os.path.join(self.root, rel)
    old = open(path).read()
    with open(path, "w") as f:
      f.write(old + ("" if old.endswith("\n") else "\n") + text)

  @property
  def environment(self) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TMPDIR", "USER")}
    env.update(self.moto.environment)
    env.update({
        "HOME": os.path.join(self.kops_dir, "home"), "FAKE_KOPS_S3_ROOT": self.s3, "FAKE_KOPS_LOG": self.log_path,
        "FAKE_KOPS_TASK_DEADLINE": "1", "AWS_CONFIG_FILE": os.path.join(self.dir, "aws", "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "aws", "credentials"), "NO_COLOR": "1", "AWS_PAGER": "",
    })
    if self.kops_sleep:
      env["FAKE_KOPS_SLEEP"] = str(self.kops_sleep)
    return env

  def hk(self, args: list[str], check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess:
    return run_captured([self.paths.hk] + args + ["--root", self.root, "--state-db", self.state_db],
                        cwd=self.root, env=self.environment, check=check, timeout=timeout)

  def apply(self, envs: list[str]) -> subprocess.CompletedProcess:
    return self.hk(["apply"] + envs + ["--yes", "--validate-interval", "0.2", "--validate-timeout", "30"])

  def log_entries(self) -> list[dict]:
    try:
      with open(self.log_path) as f:
        return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
      return []

  def calls(self) -> list[list[str]]:
    """argv of every kops call that started, in order."""
    return [e.get("argv", []) for e in self.log_entries() if e.get("event") == "start"]

  def cloud(self, env: str, cluster: str) -> dict:
    path = os.path.join(self.s3, f"corp-kops-state-{env}", cluster, ".fake-cloud.json")
    try:
      with open(path) as f:
        return json.load(f)
    except FileNotFoundError:
      return {}


# MARK: P2 / P3: the change matrix


def ig_names(world: World, env: str) -> list[str]:
  text = open(os.path.join(world.root, "environments", env, "cluster.yaml")).read()
  return re.findall(r"kind: InstanceGroup\nmetadata:\n  name: (\S+)", text)


class Edit:
  """One category of change: `apply(world, env, n)` edits the files (the n-th time it is used on
  this environment, so every use changes something new); `rolls(igs)` is what the issue says
  must roll."""

  def __init__(self, name, apply, rolls):
    self.name = name
    self.apply = apply
    self.rolls = rolls


def _iam(w: World, env: str, n: int) -> None:
  rel = f"environments/{env}/cluster.yaml"
  if n == 1:
    w.replace(rel, "spec:\n", "spec:\n  additionalPolicies:\n    node: |\n"
              f"      [{{\"Effect\": \"Allow\", \"Action\": [\"s3:GetObject\"], \"Resource\": [\"arn:aws:s3:::bench-{env}-1/*\"]}}]\n")
  else:
    w.replace(rel, f"arn:aws:s3:::bench-{env}-{n - 1}/*", f"arn:aws:s3:::bench-{env}-{n}/*")


def _minmax(w: World, env: str, n: int) -> None:
  path = os.path.join(w.root, "environments", env, "cluster.yaml")
  text = open(path).read()
  text, k = re.subn(r"(name: nodes-ap-northeast-1a\n(?:.*\n)*?  maxSize: )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1), text, count=1)
  text, k2 = re.subn(r"(name: nodes-ap-northeast-1a\n(?:.*\n)*?  minSize: )(\d+)", lambda m: m.group(1) + str(int(m.group(2)) + 1), text, count=1)
  if not (k and k2):
    raise BenchError(f"{env}: no minSize/maxSize for nodes-ap-northeast-1a")
  open(path, "w").write(text)


def _external_dns(w: World, env: str, n: int) -> None:
  # spec.externalDns lives in the base (watchIngress: true); an overlay key flips it for this
  # environment only
  rel = f"environments/{env}/cluster.yaml"
  if n == 1:
    w.replace(rel, "spec:\n", "spec:\n  externalDns:\n    watchIngress: false\n")
  else:
    old, new = ("false", "true") if n % 2 == 0 else ("true", "false")
    w.replace(rel, f"externalDns:\n    watchIngress: {old}\n", f"externalDns:\n    watchIngress: {new}\n")


def _egress(w: World, env: str, n: int) -> None:
  w.replace(f"environments/{env}/cluster.yaml", "ecr.ap-northeast-1.amazonaws.com", f"ecr.ap-northeast-1.amazonaws.com,bench{n}.corp.local")


MACHINE_TYPES = ["m5.4xlarge", "c5.2xlarge", "r5.xlarge", "m6i.xlarge", "c6i.2xlarge"]


def _machine_type(w: World, env: str, n: int) -> None:
  path = os.path.join(w.root, "environments", env, "cluster.yaml")
  text = open(path).read()
  text, k = re.subn(r"(name: nodes-ap-northeast-1c\n(?:.*\n)*?  machineType: )(\S+)", lambda m: m.group(1) + MACHINE_TYPES[n % len(MACHINE_TYPES)], text, count=1)
  if not k:
    raise BenchError(f"{env}: no machineType for nodes-ap-northeast-1c")
  open(path, "w").write(text)


def _api_lb(w: World, env: str, n: int) -> None:
  # the base's internal NLB; an overlay switches this environment's class (a new load balancer)
  rel = f"environments/{env}/cluster.yaml"
  if n == 1:
    w.replace(rel, "spec:\n", "spec:\n  api:\n    loadBalancer:\n      class: Classic\n")
  else:
    old, new = ("Classic", "Network") if n % 2 == 0 else ("Network", "Classic")
    w.replace(rel, f"loadBalancer:\n      class: {old}\n", f"loadBalancer:\n      class: {new}\n")


def _kube_dns(w: World, env: str, n: int) -> None:
  rel = f"environments/{env}/cluster.yaml"
  if n == 1:
    w.replace(rel, "spec:\n", "spec:\n  kubeDNS:\n    provider: CoreDNS\n    nodeLocalDNS:\n      enabled: true\n")
  else:
    old, new = ("true", "false") if n % 2 == 0 else ("false", "true")
    w.replace(rel, f"nodeLocalDNS:\n      enabled: {old}\n", f"nodeLocalDNS:\n      enabled: {new}\n")


def _kops_upgrade(w: World, env: str, n: int) -> None:
  """A kops patch upgrade (1.23.4 → 1.23.5, 1.28.4 → 1.28.5): kopsVersion and the kops binary."""
  old = World.SAMPLES[env][3]
  if n != 1:
    raise BenchError(f"{env}: the kops upgrade row runs once per environment")
  major, minor, patch = old.split(".")
  new = f"{major}.{minor}.{int(patch) + 1}"
  rel = f"environments/{env}/environment.yaml"
  w.replace(rel, f"kopsVersion: {old}\n", f"kopsVersion: {new}\n")
  w.replace(rel, f"kopsPath: {w.kops_wrapper(old)}\n", f"kopsPath: {w.kops_wrapper(new)}\n")


EDITS = {
    "iam": Edit("IAM policy", _iam, lambda igs: set()),
    "minmax": Edit("min/max size", _minmax, lambda igs: set()),
    "externalDns": Edit("externalDns", _external_dns, lambda igs: set()),
    "egressProxy": Edit("egressProxy", _egress, lambda igs: set(igs)),
    "machineType": Edit("one IG's machineType", _machine_type, lambda igs: {"nodes-ap-northeast-1c"}),
    # issue 12's rows: the API load balancer rolls the control plane, kubeDNS and a kops upgrade
    # roll every group
    "apiLoadBalancer": Edit("API load balancer class", _api_lb, lambda igs: {g for g in igs if g.startswith("control-plane")}),
    "kubeDNS": Edit("kubeDNS", _kube_dns, lambda igs: set(igs)),
    "kopsUpgrade": Edit("kops patch upgrade", _kops_upgrade, lambda igs: set(igs)),
}

SCENARIOS = [
    ["iam"], ["minmax"], ["externalDns"], ["egressProxy"], ["machineType"],
    ["iam", "minmax"], ["iam", "externalDns", "minmax"], ["iam", "machineType"], ["minmax", "machineType"],
    ["egressProxy", "machineType"], ["egressProxy", "iam", "minmax", "externalDns"],
    ["iam", "minmax", "externalDns", "machineType"],
    ["apiLoadBalancer"], ["kubeDNS"], ["apiLoadBalancer", "iam"], ["kubeDNS", "machineType"], ["kopsUpgrade"],
]


def _rolled(cloud_before: dict, cloud_after: dict) -> list[list[str]]:
  return [r["instanceGroups"] for r in cloud_after.get("rollingUpdates", [])[len(cloud_before.get("rollingUpdates", [])):]]


def _needing_roll(cloud_before: dict, cloud_after: dict) -> set[str]:
  """The groups whose pushed node configuration changed in this apply (the double's own hash of
  what reaches a node): exactly the groups whose instances must be replaced."""
  before = {g["name"]: g["hash"] for g in cloud_before.get("groups", [])}
  return {g["name"] for g in cloud_after.get("groups", []) if g["name"] in before and before[g["name"]] != g["hash"]}


def _config_difference(cloud_before: dict, cloud_after: dict, groups: set[str]) -> str:
  """What changed in the node configuration of one of `groups` (the keys of the changed lines)."""
  before = {g["name"]: g.get("nodeConfig", "") for g in cloud_before.get("groups", [])}
  for g in cloud_after.get("groups", []):
    if g["name"] in groups:
      diff = difflib.unified_diff(before.get(g["name"], "").splitlines(), g.get("nodeConfig", "").splitlines(), lineterm="", n=0)
      keys = []
      for line in diff:
        if line[:1] in "+-" and not line.startswith(("+++", "---")):
          key = line[1:].strip().split(":", 1)[0]
          if key and key not in keys:
            keys.append(key)
      return f"{g['name']}: {', '.join(keys[:6])}"
  return ""


def _stale_instances(cloud: dict) -> set[str]:
  return {g["name"] for g in cloud.get("groups", []) if any(i["hash"] != g["hash"] for i in g.get("instances", []))}


def _count_calls(calls: list[list[str]]) -> dict[str, int]:
  out: dict[str, int] = {}
  for argv in calls:
    words = [a for a in argv if not a.startswith("-")]
    sub = words[0] if words else "?"
    if sub in ("get", "export", "replace", "create", "delete", "update", "rolling-update", "validate") and len(words) > 1:
      key = sub if sub in ("replace", "create") else f"{sub} {words[1]}"
    else:
      key = sub
    if sub in ("update", "rolling-update") and "--yes" in argv:
      key += " --yes"
    out[key] = out.get(key, 0) + 1
  return out


def p2_p3_apply(paths, Result, log) -> list:
  work = os.path.join(paths.work, "p2")
  os.makedirs(work, exist_ok=True)
  moto = Moto(work)
  try:
    w = World(paths, os.path.join(work, "world"), moto)
    w.copy_samples()
    envs = list(World.SAMPLES)
    log(f"P2: creating {', '.join(envs)} with hk apply (fake-kops, moto)")
    w.apply(envs)
    rows = []  # (env, scenario, rolled, needed, expected, ok, calls, expected_calls, calls_ok)
    accuracy = []  # (env, scenario, predicted by hk plan, kops's NeedsUpdate verdict)
    uses: dict[tuple[str, str], int] = {}
    for env in envs:
      cluster = f"{env}.k8s.corp.local"
      igs = ig_names(w, env)
      version = tuple(int(x) for x in World.SAMPLES[env][3].split("."))
      for scenario in SCENARIOS:
        for e in scenario:
          n = uses.get((env, e), 0) + 1
          uses[(env, e)] = n
          EDITS[e].apply(w, env, n)
        expected = set().union(*(EDITS[e].rolls(igs) for e in scenario))
        plan = json.loads(w.hk(["plan", env, "--format", "json"]).stdout)
        plan_env = plan["environments"][0]
        predicted = set(plan_env.get("summary", {}).get("rolls", []))
        writes_planned = sum(1 for s in plan_env["steps"] if s["kind"] in (
            "cluster-create", "cluster-replace", "instancegroup-create", "instancegroup-replace", "instancegroup-delete"))
        before_cloud = w.cloud(env, cluster)
        before_calls = len(w.calls())
        w.apply([env])
        after_cloud = w.cloud(env, cluster)
        calls = w.calls()[before_calls:]
        rolled_lists = _rolled(before_cloud, after_cloud)
        rolled = [ig for lst in rolled_lists for ig in lst]
        needed = _needing_roll(before_cloud, after_cloud)
        stale = _stale_instances(after_cloud) - _stale_instances(before_cloud)
        ok = sorted(rolled) == sorted(needed) == sorted(expected) and not stale and len(rolled) == len(set(rolled))
        why = _config_difference(before_cloud, after_cloud, needed - expected) if needed - expected else ""
        counts = _count_calls(calls)
        # The minimal calls (DESIGN.md §5): kops version, the pre-flight read (get all from
        # kops 1.26, else get cluster + get instancegroups), one write per changed object, kops's
        # dry run (update without --yes), one update --yes, kops's NeedsUpdate listing
        # (rolling-update without --yes), one rolling-update --yes only when something must roll, one validate
        # (healthy at once here), and, up to kops 1.30, one export kubeconfig for the
        # rolling-update/validate credential.
        reads = {"get all": 1} if version >= (1, 26) else {"get cluster": 1, "get instancegroups": 1}
        minimal = {"version": 1, **reads, "update cluster": 1, "update cluster --yes": 1, "rolling-update cluster": 1,
                   "validate cluster": 1}
        if writes_planned:
          minimal["replace"] = writes_planned
        if expected:
          minimal["rolling-update cluster --yes"] = 1
        if version < (1, 31):
          minimal["export kubeconfig"] = 1
        calls_ok = counts == minimal
        accuracy.append((env, "+".join(scenario), predicted, needed))
        rows.append((env, "+".join(scenario), rolled, needed, expected, ok, counts, minimal, calls_ok, writes_planned, why))
        log(f"P2: {env} {'+'.join(scenario)}: rolled {sorted(rolled) or '-'} needed {sorted(needed) or '-'} "
            f"{'ok' if ok else 'WRONG'}{' (' + why + ')' if why else ''}; kops calls {sum(counts.values())} {'minimal' if calls_ok else 'NOT minimal: ' + json.dumps(counts)}")
  finally:
    moto.stop()

  p2 = Result("P2", "node rolls: performed ÷ needed over a change matrix")
  total_rolled = sum(len(r[2]) for r in rows)
  total_needed = sum(len(r[3]) for r in rows)
  wrong = [r for r in rows if not r[5]]
  for env, sc, rolled, needed, expected, ok, *_rest in rows:
    why = _rest[-1]
    p2.row(f"{env}: {sc}", f"rolled {', '.join(sorted(rolled)) or 'none'}; needed {', '.join(sorted(needed)) or 'none'}"
                           f"{'' if ok else ' — WRONG (issue expects ' + (', '.join(sorted(expected)) or 'none') + ')'}"
                           f"{' — node config changed: ' + why if why else ''}")
  r = total_rolled / total_needed if total_needed else (1.0 if total_rolled == 0 else math.inf)
  p2.row("rolls performed ÷ rolls needed", f"{total_rolled} ÷ {total_needed} = {r:.2f} (target 1.00, and equal per scenario)")
  # Plan accuracy (issue 12): hk's predicted rolls (plan JSON summary.rolls) against kops's
  # NeedsUpdate verdict (the double's launch template fingerprints that update --yes changed).
  misses = sum(len(v - p) for _e, _s, p, v in accuracy)
  extras = sum(len(p - v) for _e, _s, p, v in accuracy)
  exact = sum(1 for _e, _s, p, v in accuracy if p == v)
  for env, sc, p, v in accuracy:
    if p != v:
      p2.row(f"{env}: {sc} — plan accuracy", f"predicted {', '.join(sorted(p)) or 'none'}; kops NeedsUpdate {', '.join(sorted(v)) or 'none'}")
  p2.row("plan accuracy: predicted rolls = kops's NeedsUpdate",
         f"{exact} of {len(accuracy)} applies exact; {misses} misses, {extras} predicted but not needed (target 0 and 0)")
  p2.verdict = "PASS" if not wrong and abs(r - 1.0) < 1e-9 and misses == 0 and extras == 0 else "FAIL"
  p2.summary = (f"{total_rolled} rolls for {total_needed} needed = {r:.2f} over {len(rows)} applies; {len(wrong)} scenarios wrong; "
                f"plan accuracy {exact}/{len(accuracy)}, {misses} misses")
  p2.notes.append("Needed = the instance groups whose node configuration the double's `update --yes` changed (its hash of what "
                  "reaches a node), which must also be what the issue's rules say; rolled = the groups the double's "
                  "`rolling-update --yes` replaced (its cloud file). Scenarios apply one after another on each environment, "
                  "so each environment's first scenario is also the first `kops replace` of its Cluster after `kops create`.")

  p3 = Result("P3", "kops calls per apply (from the double's invocation log)")
  not_minimal = [r for r in rows if not r[8]]
  for env, sc, *_rest in rows:
    counts, minimal, calls_ok, writes = _rest[4], _rest[5], _rest[6], _rest[7]
    shown = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    p3.row(f"{env}: {sc} ({writes} object{'s' if writes != 1 else ''} changed)",
           f"{sum(counts.values())} calls: {shown}" + ("" if calls_ok else f" — minimal is {json.dumps(minimal)}"))
  p3.verdict = "PASS" if not not_minimal else "FAIL"
  p3.summary = f"{len(rows) - len(not_minimal)} of {len(rows)} applies made exactly the minimal calls"
  return [p2, p3]


# MARK: P4: parallel drift


def p4_drift(paths, Result, log, envs: int = 100, parallelism: tuple[int, ...] = (4, 10), sleep: float = 0.5):
  """`hk drift` over `envs` applied environments with every kops call sleeping `sleep` s."""
  import genrepo  # noqa: PLC0415

  work = os.path.join(paths.work, "p4")
  os.makedirs(work, exist_ok=True)
  moto = Moto(work)
  res = Result("P4", f"parallel drift, {envs} environments, kops double sleeping {sleep} s a call")
  try:
    w = World(paths, os.path.join(work, "world"), moto)
    # prod-like environments (kops 1.28, internetGateway external-egress): drift makes no aws
    # call for them, so the kops calls are all the waiting there is
    summary = genrepo.generate(w.root, envs, flavours=("prod",))
    names = summary["names"]
    for i, name in enumerate(names):
      rel = f"environments/{name}/cluster.yaml"
      text = open(os.path.join(w.root, rel)).read()
      cidr = re.search(r"networkCIDR: (\S+)", text).group(1)
      old_vpc = re.search(r"networkID: (\S+)", text).group(1)
      w.replace(rel, old_vpc, moto.create_vpc(cidr))
      w.append(f"environments/{name}/environment.yaml", f"kopsPath: {w.kops_wrapper('1.28.4')}\n")
      os.makedirs(os.path.join(w.s3, f"corp-kops-state-{name}"), exist_ok=True)
      w.profiles.append(f"corp-{name}")
    w.write_aws_profiles()
    log(f"P4: creating {envs} environments with one hk apply (fake-kops without sleep)")
    started = time.monotonic()
    w.apply(names)
    log(f"P4: created in {time.monotonic() - started:.0f} s")
    w.kops_sleep = sleep
    verdicts = []
    for n in parallelism:
      before = len(w.calls())
      started = time.monotonic()
      r = w.hk(["drift", "--parallel", str(n), "--format", "json"], check=False, timeout=1800)
      wall = time.monotonic() - started
      if r.returncode not in (0, 2):
        raise BenchError(f"P4: hk drift --parallel {n} exited {r.returncode}: {r.stderr[-2000:]}")
      report = json.loads(r.stdout)
      statuses: dict[str, int] = {}
      for e in report.get("environments", []):
        statuses[e.get("status", "?")] = statuses.get(e.get("status", "?"), 0) + 1
      calls = w.calls()[before:]
      per_env = len(calls) / envs
      kinds = _count_calls(calls)
      # the issue's bound: one sleeping call's worth of waiting per environment, `n` at a time
      ideal = math.ceil(envs / n) * sleep
      ratio = wall / ideal
      verdicts.append(ratio <= 1.3)
      res.row(f"--parallel {n}: wall", f"{wall:.1f} s for {len(report.get('environments', []))} environments "
                                       f"({', '.join(f'{v} {k}' for k, v in sorted(statuses.items()))})")
      res.row(f"--parallel {n}: kops calls", f"{len(calls)} = {per_env:g} per environment "
                                             f"({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})")
      res.row(f"--parallel {n}: ideal = ceil({envs}/{n}) × {sleep} s", f"{ideal:.1f} s")
      res.row(f"--parallel {n}: wall ÷ ideal", f"{ratio:.2f} (target ≤ 1.30)")
      log(f"P4: --parallel {n}: {wall:.1f} s, {per_env:g} kops calls per environment, {ratio:.2f}× the ideal {ideal:.1f} s")
  finally:
    moto.stop()
  res.verdict = "PASS" if all(verdicts) else "FAIL"
  worst = max((float(v.split()[0]) for k, v in res.rows if k.endswith("wall ÷ ideal")), default=0)
  res.summary = f"worst {worst:.2f}× the ideal (≤ 1.3×) at --parallel {', '.join(map(str, parallelism))}"
  res.notes.append("Ideal = ceil(environments ÷ parallelism) × sleep, the issue's bound: one sleeping kops call per "
                   "environment, `parallelism` environments at a time. hk asks `kops version` once per kops binary for the "
                   "whole run (the environments sharing it wait for that one answer), then reads each environment with one "
                   "`kops get all`; the calls are counted from the double's invocation log of the drift run itself.")
  return res
