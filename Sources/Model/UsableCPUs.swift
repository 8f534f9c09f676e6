import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How many CPUs this process may actually use, to size hk's parallel work.
///
/// The machine's core count is not it: a CI runner is often a container limited by a cgroup CPU
/// quota (`docker --cpus=1`, a Kubernetes CPU limit) or pinned to some cores (`taskset`, a
/// cpuset). Starting more threads than the process may run costs handoffs and idle waits; with
/// one usable CPU hk does its work inline. The count is the smallest of
/// - the CPUs in the scheduler affinity mask (`sched_getaffinity`; the online CPUs if unreadable),
/// - the cgroup CPU quota, rounded up: cgroup v2 `cpu.max` (`QUOTA PERIOD` or `max`), v1
///   `cpu.cfs_quota_us` ÷ `cpu.cfs_period_us` (-1: none), the tightest along the process's
///   cgroup path up to the hierarchy's root,
///
/// and at least 1.
public enum UsableCPUs {
  /// This process's usable CPUs, computed once per run.
  public static let count: Int = count(root: "/", affinity: affinityCount())

  /// The usable CPUs given the affinity mask's CPU count (nil: unknown, the online CPUs count)
  /// and the cgroup files under `root` (`/` on a real system; a folder of fake files in tests):
  /// `root/proc/self/cgroup` and the hierarchies under `root/sys/fs/cgroup`.
  public static func count(root: String, affinity: Int?) -> Int {
    var n = affinity ?? ProcessInfo.processInfo.processorCount
    if let quota = quotaCPUs(root: root) {
      n = min(n, Int(quota.rounded(.up)))
    }
    return max(1, n)
  }

  /// The CPU time the cgroup quota allows per unit of wall time (1.5 = one and a half CPUs),
  /// the tightest along the process's cgroup path; nil when no quota applies.
  public static func quotaCPUs(root: String) -> Double? {
    let base = join(root, "sys/fs/cgroup")
    var tightest: Double?
    func consider(_ q: Double?) {
      if let q, q > 0 { tightest = min(tightest ?? q, q) }
    }
    // "hierarchy-id:controllers:path"; v2 is "0::path". Without the file (or an entry), the
    // hierarchy's root is read: a container with its own cgroup namespace sees its cgroup there.
    let lines = (read(join(root, "proc/self/cgroup")) ?? "").split(separator: "\n")
    var v2Path = "/"
    var v1Path: (controllers: String, path: String)?
    for line in lines {
      let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard parts.count == 3 else { continue }
      if parts[0] == "0" && parts[1].isEmpty {
        v2Path = String(parts[2])
      } else if parts[1].split(separator: ",").contains("cpu") {
        v1Path = (String(parts[1]), String(parts[2]))
      }
    }
    for dir in upward(from: v2Path, under: base) {
      consider(read(join(dir, "cpu.max")).flatMap(parseCPUMax))
    }
    let v1 = v1Path ?? ("cpu", "/")
    for mount in Set([v1.controllers, "cpu", "cpu,cpuacct"]).sorted() {
      for dir in upward(from: v1.path, under: join(base, mount)) {
        guard let quota = read(join(dir, "cpu.cfs_quota_us")).flatMap({ Double(trim($0)) }),
          let period = read(join(dir, "cpu.cfs_period_us")).flatMap({ Double(trim($0)) }),
          quota > 0, period > 0
        else { continue }
        consider(quota / period)
      }
    }
    return tightest
  }

  /// `cpu.max`: "QUOTA PERIOD" (CPUs = quota ÷ period) or "max PERIOD" (no limit: nil).
  static func parseCPUMax(_ text: String) -> Double? {
    let fields = trim(text).split(separator: " ")
    guard fields.count >= 1, let quota = Double(fields[0]), quota > 0 else { return nil }
    let period = fields.count > 1 ? Double(fields[1]) ?? 100_000 : 100_000
    return period > 0 ? quota / period : nil
  }

  /// The CPUs in this process's affinity mask (nil when it cannot be read).
  public static func affinityCount() -> Int? {
    #if os(Linux)
    // Glibc's module does not export sched_getaffinity (it is behind _GNU_SOURCE); it is
    // looked up once, by name, in the C library already loaded.
    typealias GetAffinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer) -> Int32
    guard let symbol = dlsym(nil, "sched_getaffinity") else { return nil }
    let getAffinity = unsafeBitCast(symbol, to: GetAffinity.self)
    // 1024 CPUs (glibc's cpu_set_t); the kernel refuses a mask smaller than its own.
    var mask = [UInt64](repeating: 0, count: 16)
    let status = mask.withUnsafeMutableBytes { bytes -> Int32 in
      guard let base = bytes.baseAddress else { return -1 }
      return getAffinity(0, bytes.count, base)
    }
    guard status == 0 else { return nil }
    let n = mask.reduce(0) { $0 + $1.nonzeroBitCount }
    return n > 0 ? n : nil
    #else
    return nil
    #endif
  }

  /// `path` (a cgroup path, "/a/b") and each of its parents, as folders under `base`,
  /// deepest first, ending with `base` itself.
  private static func upward(from path: String, under base: String) -> [String] {
    var parts = path.split(separator: "/").filter { $0 != "." && $0 != ".." }.map(String.init)
    var out: [String] = []
    while true {
      out.append(parts.isEmpty ? base : join(base, parts.joined(separator: "/")))
      if parts.isEmpty { return out }
      parts.removeLast()
    }
  }

  private static func join(_ a: String, _ b: String) -> String {
    a.hasSuffix("/") ? a + b : a + "/" + b
  }

  private static func trim(_ s: String) -> String {
    s.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  private static func read(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
  }
}
