"""Generates a GitOps repository of N hk environments for the plan-throughput benchmark (P1).

Every environment is modelled on one of the samples in the project's `environments/`
(dev: kops 1.23 + docker, staging: cilium, prod: kops 1.28 + containerd + egress: External)
and varied: its name, VPC and subnet CIDRs, subnet and gateway IDs, zones, machine types,
instance-group count (3-5: one control plane and 2-4 node groups), labels and taints.
Each `cluster.yaml` together with the shared `_base/cluster.yaml` is about 300 lines.

The output is deterministic for a given N (no randomness), so two runs plan the same bytes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import shutil

TEAMS = ["payments", "search", "ledger", "catalog", "identity", "checkout", "billing", "media",
         "fraud", "growth", "risk", "ads", "mail", "maps", "crm", "hr", "iot", "chat"]
STAGES = ["dev", "qa", "staging", "perf", "prod", "dr"]
ZONES = ["ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"]
NODE_TYPES = ["m5.large", "m5.xlarge", "m5.2xlarge", "c5.xlarge", "c5.2xlarge", "r5.xlarge", "r5.2xlarge"]
IMAGES = {
    "focal": "099720109477/ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20230112",
    "jammy": "099720109477/ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240607",
}

BASE = """\
# Shared by every generated environment (benchmark repository). Environments name this file
# with `base: ../_base/cluster.yaml` and override what differs in their own cluster.yaml.
apiVersion: kops.k8s.io/v1alpha2
kind: Cluster
metadata:
  name: base.k8s.corp.local
spec:
  api:
    loadBalancer:
      class: Network
      type: Internal            # no IGW: a public load balancer cannot work
      crossZoneLoadBalancing: true
  authorization:
    rbac: {}
  channel: stable
  cloudProvider: aws
  etcdClusters:
  - name: main
    cpuRequest: 200m
    memoryRequest: 100Mi
    etcdMembers:
    - instanceGroup: control-plane-ap-northeast-1a
      name: a
      encryptedVolume: true
  - name: events
    cpuRequest: 100m
    memoryRequest: 100Mi
    etcdMembers:
    - instanceGroup: control-plane-ap-northeast-1a
      name: a
      encryptedVolume: true
  iam:
    allowContainerRegistry: true
    legacy: false
  kubeAPIServer:
    auditLogMaxAge: 10
    auditLogMaxBackups: 1
    auditLogMaxSize: 100
    auditLogPath: /var/log/kube-apiserver-audit.log
  kubeControllerManager:
    horizontalPodAutoscalerSyncPeriod: 15s
  kubeProxy:
    enabled: true
  kubelet:
    anonymousAuth: false
    authenticationTokenWebhook: true
    authorizationMode: Webhook
  networking:
    flannel:
      backend: vxlan            # kubenet needs a single route table
  nonMasqueradeCIDR: 100.64.0.0/10
  sshAccess:
  - 10.0.0.0/8
  kubernetesApiAccess:
  - 10.0.0.0/8
  topology:
    dns:
      type: Private
  externalDns:
    watchIngress: true
  egressProxy:
    httpProxy:
      host: proxy.corp.local
      port: 3128
  docker:
    logDriver: awslogs
    logOpt:
    - awslogs-region=ap-northeast-1
    - awslogs-create-group=true
  additionalPolicies:
    master: |
      [
        {
          "Effect": "Allow",
          "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          "Resource": ["arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*"]
        }
      ]
    node: |
      [
        {
          "Effect": "Allow",
          "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          "Resource": ["arn:aws:logs:ap-northeast-1:*:log-group:/k8s/*"]
        }
      ]
"""

INGRESS = """\
# Internal entry points: a VPC without an internet gateway cannot host internet-facing LBs.
apiVersion: v1
kind: Service
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-internal: "true"
    service.beta.kubernetes.io/aws-load-balancer-type: nlb
spec:
  type: LoadBalancer
  selector:
    app.kubernetes.io/name: ingress-nginx
  ports:
  - name: https
    port: 443
    targetPort: 443
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: portal
  namespace: portal
  annotations:
    alb.ingress.kubernetes.io/scheme: internal
    external-dns.alpha.kubernetes.io/hostname: portal.{cluster}
spec:
  ingressClassName: alb
  rules:
  - host: portal.{cluster}
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: portal
            port:
              number: 80
"""


def env_name(i: int) -> str:
  """A unique, valid environment name: `<team>-<stage>-<nnnn>`."""
  return f"{TEAMS[i % len(TEAMS)]}-{STAGES[(i // len(TEAMS)) % len(STAGES)]}-{i:04d}"


FLAVOURS = ("dev", "staging", "prod")


def flavour(i: int, flavours: tuple[str, ...] = FLAVOURS) -> str:
  """Which sample the environment imitates."""
  return flavours[i % len(flavours)]


def vpc_cidr(i: int) -> ipaddress.IPv4Network:
  """A distinct /18 per environment inside 10.0.0.0/8 (up to 1024 environments) or 172.16.0.0/12."""
  if i < 1024:
    return ipaddress.ip_network(f"10.{i // 4}.{(i % 4) * 64}.0/18")
  j = i - 1024
  return ipaddress.ip_network(f"172.{16 + j // 256 % 16}.{j % 4 * 64}.0/18")


def hexid(i: int, salt: int, width: int = 17) -> str:
  """A stable AWS-style hexadecimal ID for environment `i` (`salt` tells the objects apart)."""
  return "0" + hashlib.sha256(f"{i}/{salt}".encode()).hexdigest()[: width - 1]


def cluster_yaml(i: int, flavours: tuple[str, ...] = FLAVOURS) -> tuple[str, str, dict]:
  """The overlay cluster.yaml of environment `i`, its cluster name and facts for the caller."""
  name = env_name(i)
  cluster = f"{name}.k8s.corp.local"
  kind = flavour(i, flavours)
  net = vpc_cidr(i)
  zones = ZONES[: 2 + (i % 2)]  # 2 or 3 zones
  node_groups = 2 + (i % 3)  # 2..4 node groups -> 3..5 IGs
  private = list(net.subnets(new_prefix=21))
  utility = list(list(net.subnets(new_prefix=20))[3].subnets(new_prefix=23))
  prod = kind == "prod"
  image = IMAGES["jammy" if prod else "focal"]
  lines = [
      f"# {name}: overlay on ../_base/cluster.yaml (generated for hk's plan benchmark from environments/{kind}).",
      "apiVersion: kops.k8s.io/v1alpha2",
      "kind: Cluster",
      "metadata:",
      f"  name: {cluster}",
      "spec:",
      f"  configBase: s3://corp-kops-state-{name}/{cluster}",
      f"  dnsZone: {cluster}",
      f"  kubernetesVersion: {'1.28.9' if prod else '1.23.17'}",
      f"  networkID: vpc-{hexid(i, 1)}",
      f"  networkCIDR: {net}",
      f"  containerRuntime: {'containerd' if prod else 'docker'}",
  ]
  if prod:
    lines += [
        "  docker: null",
        "  kubelet:",
        "    containerLogMaxSize: 50Mi",
        f"    containerLogMaxFiles: {3 + i % 5}",
    ]
  else:
    lines += [
        "  docker:",
        "    logOpt:",
        "    - awslogs-region=ap-northeast-1",
        "    - awslogs-create-group=true",
        f"    - awslogs-group=/k8s/{name}",
    ]
  if kind == "staging":
    lines += ["  networking:", "    flannel: null", "    cilium: {}"]
  lines += [
      "  egressProxy:",
      f"    excludes: \"corp.local,{net},169.254.169.254,s3.ap-northeast-1.amazonaws.com,ecr.ap-northeast-1.amazonaws.com\"",
      "  cloudLabels:",
      f"    team: {TEAMS[i % len(TEAMS)]}",
      f"    cost-center: \"{4000 + i % 97}\"",
      f"    environment: {name}",
      "  subnets:",
  ]
  for z, zone in enumerate(zones):
    lines += [
        f"  - name: private-{zone}",
        f"    id: subnet-{hexid(i, 10 + z)}",
        f"    cidr: {private[z]}",
        "    type: Private",
        f"    zone: {zone}",
    ]
    if prod:
      lines.append("    egress: External")
  for z, zone in enumerate(zones):
    lines += [
        f"  - name: utility-{zone}",
        f"    id: subnet-{hexid(i, 20 + z)}",
        f"    cidr: {utility[z]}",
        "    type: Utility",
        f"    zone: {zone}",
    ]
    if prod:
      lines.append("    egress: External")
  lines += [
      "  topology:", "    masters: private", "    nodes: private",
      "  kubeDNS:", "    provider: CoreDNS", "    nodeLocalDNS:", "      enabled: true",
      "  metricsServer:", "    enabled: true",
      "  certManager:", "    enabled: true", "    managed: false",
  ]

  igs = []
  role = "ControlPlane" if prod else "Master"
  igs.append(("control-plane-ap-northeast-1a", role, "m5.large", 1, 1, [zones[0]]))
  for g in range(node_groups):
    zone = zones[g % len(zones)]
    suffix = zone if g < len(zones) else f"{zone}-batch"
    mt = NODE_TYPES[(i + g) % len(NODE_TYPES)]
    igs.append((f"nodes-{suffix}", "Node", mt, 2 + g % 2, 4 + 2 * (g % 3), [zone]))
  for (ig, ig_role, mt, lo, hi, subs) in igs:
    node = ig_role == "Node"
    lines += [
        "---",
        "apiVersion: kops.k8s.io/v1alpha2",
        "kind: InstanceGroup",
        "metadata:",
        f"  name: {ig}",
        "  labels:",
        f"    kops.k8s.io/cluster: {cluster}",
        "spec:",
        f"  role: {ig_role}",
        f"  image: {image}",
        f"  machineType: {mt}",
        f"  minSize: {lo}",
        f"  maxSize: {hi}",
        f"  rootVolumeSize: {64 if node else 32}",
        "  rootVolumeType: gp3",
        "  rootVolumeEncryption: true",
        "  rootVolumeIops: 3000",
        "  rootVolumeThroughput: 125",
        "  associatePublicIp: false",
        "  subnets:",
    ] + [f"  - private-{s}" for s in subs] + [
        "  cloudLabels:",
        f"    team: {TEAMS[i % len(TEAMS)]}",
        f"    k8s.io/cluster-autoscaler/{cluster}: owned",
        f"    k8s.io/cluster-autoscaler/enabled: \"{'true' if node else 'false'}\"",
        "  nodeLabels:",
        f"    kops.k8s.io/instancegroup: {ig}",
        f"    team: {TEAMS[i % len(TEAMS)]}",
        f"    workload: {'batch' if ig.endswith('-batch') else 'general' if node else 'control-plane'}",
        "  additionalSecurityGroups:",
        f"  - sg-{hexid(i, 30)}",
        "  instanceMetadata:",
        "    httpPutResponseHopLimit: 1",
        "    httpTokens: required",
        "  detailedInstanceMonitoring: false",
    ]
    if ig.endswith("-batch"):
      lines += ["  taints:", "  - dedicated=batch:NoSchedule"]
  facts = {"kind": kind, "igs": [g[0] for g in igs]}
  return "\n".join(lines) + "\n", cluster, facts


def small_cluster_yaml(i: int, flavours: tuple[str, ...] = FLAVOURS) -> tuple[str, str, dict]:
  """A small environment's cluster.yaml, as a new user writes a first one: the overlay on the
  shared base with two zones, one control plane and one node group, no extras (about 75 lines,
  140 with the base). Returns the text, the cluster name and facts, as `cluster_yaml` does."""
  name = env_name(i)
  cluster = f"{name}.k8s.corp.local"
  prod = flavour(i, flavours) == "prod"
  net = vpc_cidr(i)
  zones = ZONES[:2]
  private = list(net.subnets(new_prefix=21))
  utility = list(list(net.subnets(new_prefix=20))[3].subnets(new_prefix=23))
  image = IMAGES["jammy" if prod else "focal"]
  lines = [
      "apiVersion: kops.k8s.io/v1alpha2",
      "kind: Cluster",
      "metadata:",
      f"  name: {cluster}",
      "spec:",
      f"  configBase: s3://corp-kops-state-{name}/{cluster}",
      f"  dnsZone: {cluster}",
      f"  kubernetesVersion: {'1.28.9' if prod else '1.23.17'}",
      f"  networkID: vpc-{hexid(i, 1)}",
      f"  networkCIDR: {net}",
      f"  containerRuntime: {'containerd' if prod else 'docker'}",
  ]
  if prod:
    lines += ["  docker: null"]
  lines += ["  subnets:"]
  for z, zone in enumerate(zones):
    lines += [f"  - name: private-{zone}", f"    id: subnet-{hexid(i, 10 + z)}", f"    cidr: {private[z]}",
              "    type: Private", f"    zone: {zone}"] + (["    egress: External"] if prod else [])
  for z, zone in enumerate(zones):
    lines += [f"  - name: utility-{zone}", f"    id: subnet-{hexid(i, 20 + z)}", f"    cidr: {utility[z]}",
              "    type: Utility", f"    zone: {zone}"] + (["    egress: External"] if prod else [])
  lines += ["  topology:", "    masters: private", "    nodes: private"]
  igs = [("control-plane-ap-northeast-1a", "ControlPlane" if prod else "Master", "m5.large", 1, 1),
         ("nodes", "Node", NODE_TYPES[i % len(NODE_TYPES)], 2, 4)]
  for (ig, role, mt, lo, hi) in igs:
    lines += [
        "---",
        "apiVersion: kops.k8s.io/v1alpha2",
        "kind: InstanceGroup",
        "metadata:",
        f"  name: {ig}",
        "  labels:",
        f"    kops.k8s.io/cluster: {cluster}",
        "spec:",
        f"  role: {role}",
        f"  image: {image}",
        f"  machineType: {mt}",
        f"  minSize: {lo}",
        f"  maxSize: {hi}",
        "  subnets:",
    ] + ([f"  - private-{zones[0]}"] if role != "Node" else [f"  - private-{z}" for z in zones])
  return "\n".join(lines) + "\n", cluster, {"kind": flavour(i, flavours), "igs": [g[0] for g in igs]}


def environment_yaml(i: int, cluster: str, flavours: tuple[str, ...] = FLAVOURS) -> str:
  kind = flavour(i, flavours)
  name = env_name(i)
  lines = [
      f"cluster: {cluster}",
      f"stateStore: s3://corp-kops-state-{name}",
      f"kopsVersion: {'1.28.4' if kind == 'prod' else '1.23.4'}",
      "base: ../_base/cluster.yaml",
      f"aws: {{region: ap-northeast-1, profile: corp-{name}}}",
      "internetGateway:",
  ]
  if kind == "prod":
    lines += ["  strategy: external-egress"]
  else:
    lines += ["  strategy: temporary", f"  id: igw-{hexid(i, 40)}"]
  lines += [f"rollingUpdate: {'manual' if i % 7 == 0 else 'auto'}"]
  if kind == "prod":
    lines += [
        "ignore:",
        "  - path: spec.kubernetesVersion",
        "    reason: \"the platform team patches control planes out of band during incident response\"",
        "    until: 2027-01-31",
    ]
  return "\n".join(lines) + "\n"


def generate(root: str, count: int, flavours: tuple[str, ...] = FLAVOURS, small: bool = False) -> dict:
  """Writes `root/environments/...` for `count` environments; returns a summary.

  `flavours` picks the samples imitated, in turn (P4 uses prod only: no aws call in drift).
  `small`: a new user's first environments (`small_cluster_yaml`, no manifests; P1's
  all-create workload)."""
  envs_dir = os.path.join(root, "environments")
  if os.path.exists(envs_dir):
    shutil.rmtree(envs_dir)
  os.makedirs(os.path.join(envs_dir, "_base"))
  with open(os.path.join(envs_dir, "_base", "cluster.yaml"), "w") as f:
    f.write(BASE)
  base_lines = BASE.count("\n")
  total_lines = 0
  ig_counts = []
  names = []
  clusters = []
  for i in range(count):
    name = env_name(i)
    text, cluster, facts = (small_cluster_yaml if small else cluster_yaml)(i, flavours)
    d = os.path.join(envs_dir, name)
    os.makedirs(d if small else os.path.join(d, "manifests"))
    with open(os.path.join(d, "cluster.yaml"), "w") as f:
      f.write(text)
    with open(os.path.join(d, "environment.yaml"), "w") as f:
      f.write(environment_yaml(i, cluster, flavours))
    if not small:
      with open(os.path.join(d, "manifests", "ingress.yaml"), "w") as f:
        f.write(INGRESS.replace("{cluster}", cluster))
    total_lines += text.count("\n") + base_lines
    ig_counts.append(len(facts["igs"]))
    names.append(name)
    clusters.append(cluster)
  return {
      "environments": count,
      "clusters": clusters,
      "names": names,
      "mean_cluster_lines_with_base": total_lines / max(count, 1),
      "instance_groups": (min(ig_counts), max(ig_counts)) if ig_counts else (0, 0),
  }


def files_hk_reads(root: str, names: list[str]) -> list[str]:
  """The files `hk plan` parses, in its order: per environment its environment.yaml,
  cluster.yaml, the base (parsed once per environment, as hk does) and its manifests."""
  out = []
  for n in names:
    d = os.path.join(root, "environments", n)
    out += [os.path.join(d, "environment.yaml"), os.path.join(d, "cluster.yaml"),
            os.path.join(root, "environments", "_base", "cluster.yaml")]
    m = os.path.join(d, "manifests")
    if os.path.isdir(m):
      out += [os.path.join(m, f) for f in sorted(os.listdir(m)) if f.endswith((".yaml", ".yml"))]
  return out


if __name__ == "__main__":
  import sys
  summary = generate(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000, small="--small" in sys.argv[3:])
  summary.pop("names")
  summary.pop("clusters")
  print(summary)
