import Foundation
import HKTestSupport
import Model
import Testing

/// ``UsableCPUs`` over fake cgroup trees (a root folder holding `proc/self/cgroup` and
/// `sys/fs/cgroup/...`), as a container runtime or systemd lays them out.
@Suite struct UsableCPUsTests {
  /// A fake root with the given files (relative path → content).
  private func root(_ files: [String: String]) throws -> TemporaryDirectory {
    let dir = try TemporaryDirectory(prefix: "hk-cpus")
    for (path, text) in files { try dir.write(path, text) }
    return dir
  }

  @Test func noCgroupFilesLeaveTheAffinity() throws {
    let dir = try root([:])
    #expect(UsableCPUs.quotaCPUs(root: dir.path) == nil)
    #expect(UsableCPUs.count(root: dir.path, affinity: 6) == 6)
    #expect(UsableCPUs.count(root: dir.path, affinity: 1) == 1)
  }

  @Test(arguments: [
    ("max 100000\n", 8), ("100000 100000\n", 1), ("150000 100000", 2), ("50000 100000\n", 1),
    ("200000 100000\n", 2), ("400000 100000\n", 4), ("1600000 100000\n", 8), ("max\n", 8),
  ])
  func cgroupV2NamespaceRoot(cpuMax: String, expected: Int) throws {
    // A container with its own cgroup namespace: "0::/" and the limit at the mount's root.
    let dir = try root(["proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": cpuMax])
    #expect(UsableCPUs.count(root: dir.path, affinity: 8) == expected)
  }

  @Test func cgroupV2TightestAlongThePath() throws {
    // systemd: the slice allows 1.5 CPUs, the service below it 3; the slice's limit binds.
    let dir = try root([
      "proc/self/cgroup": "0::/ci.slice/job.service\n",
      "sys/fs/cgroup/cpu.max": "max 100000\n",
      "sys/fs/cgroup/ci.slice/cpu.max": "150000 100000\n",
      "sys/fs/cgroup/ci.slice/job.service/cpu.max": "300000 100000\n",
    ])
    #expect(UsableCPUs.quotaCPUs(root: dir.path) == 1.5)
    #expect(UsableCPUs.count(root: dir.path, affinity: 4) == 2)
  }

  @Test func cgroupV2AffinityBindsWhenTighter() throws {
    // `taskset -c 0` inside a 4-CPU container.
    let dir = try root(["proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "400000 100000\n"])
    #expect(UsableCPUs.count(root: dir.path, affinity: 1) == 1)
  }

  @Test func cgroupV1Quota() throws {
    // Docker on a v1 host: `--cpus=1` is quota 100000 over period 100000; -1 is no limit.
    let dir = try root([
      "proc/self/cgroup": "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n",
      "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
      "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
      "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "100000\n",
      "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    ])
    #expect(UsableCPUs.quotaCPUs(root: dir.path) == 1)
    #expect(UsableCPUs.count(root: dir.path, affinity: 2) == 1)
  }

  @Test func cgroupV1NoQuota() throws {
    // This project's machines: a v1 "cpu" hierarchy with quota -1 (and a v2 one without cpu.max).
    let dir = try root([
      "proc/self/cgroup": "1:cpu:/\n0::/\n",
      "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
      "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n",
    ])
    #expect(UsableCPUs.quotaCPUs(root: dir.path) == nil)
    #expect(UsableCPUs.count(root: dir.path, affinity: 2) == 2)
  }

  @Test func cgroupPathOutsideTheNamespaceFallsBackToTheMountRoot() throws {
    // Without a cgroup namespace the path names the host's tree, which is not mounted here.
    let dir = try root([
      "proc/self/cgroup": "0::/kubepods/pod1/ctr\n",
      "sys/fs/cgroup/cpu.max": "100000 100000\n",
    ])
    #expect(UsableCPUs.count(root: dir.path, affinity: 2) == 1)
  }

  @Test(arguments: ["", "garbage\n", "0 100000\n", "-5 100000\n", "100000 0\n", "abc def\n"])
  func unreadableOrZeroQuotaIsNoLimit(cpuMax: String) throws {
    let dir = try root(["proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": cpuMax])
    #expect(UsableCPUs.count(root: dir.path, affinity: 3) == 3)
  }

  @Test func atLeastOne() throws {
    let dir = try root(["proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "1000 100000\n"])
    #expect(UsableCPUs.count(root: dir.path, affinity: 0) == 1)
    #expect(UsableCPUs.count(root: dir.path, affinity: 4) == 1)
  }

  /// The real process: the affinity mask is read (this test runs with at least one CPU), and the
  /// count never exceeds it.
  @Test func thisProcess() throws {
    let affinity = try #require(UsableCPUs.affinityCount())
    #expect(affinity >= 1)
    #expect(UsableCPUs.count >= 1 && UsableCPUs.count <= affinity)
  }
}
