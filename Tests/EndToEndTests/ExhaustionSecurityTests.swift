import Config
import Executor
import Foundation
import HKTestSupport
import Model
import Testing

/// Issue 17 item 9: inputs that exhaust hk, and what a killed hk leaves behind.
@Suite struct ExhaustionSecurityTests {
  /// 8,000 instance groups: validate and plan finish well inside a generous bound (they took
  /// minutes with the quadratic name handling; seconds now, even in a debug build on a busy CI).
  @Test func eightThousandInstanceGroupsAreHandledLinearly() throws {
    let repo = try SecurityRepo()
    try repo.edit("environments/dev/cluster.yaml") { text in
      let docs = text.components(separatedBy: "\n---\n")
      guard let ig = docs.first(where: { $0.contains("name: nodes-ap-northeast-1a\n") }) else { return text }
      let extra = (0..<8000).map { ig.replacingOccurrences(of: "name: nodes-ap-northeast-1a\n", with: "name: nodes-x\($0)\n") }
      return text + "\n---\n" + extra.joined(separator: "\n---\n") + "\n"
    }
    let validate = try repo.run(["validate", "dev"], timeout: 150)
    #expect(!validate.timedOut && validate.exitCode == 0, "\(validate.timedOut ? "timed out" : validate.stdout)")
    let plan = try repo.run(["plan", "dev", "--format", "json"], env: ["HK_KOPS": "/nonexistent/kops"], timeout: 150)
    #expect(!plan.timedOut && plan.exitCode == 0, "\(plan.timedOut ? "timed out" : plan.stderr)")
    #expect(plan.stdout.contains("instancegroup[nodes-x7999]"))
  }

  /// Per-environment and per-run budgets refuse with a positioned diagnostic.
  @Test func inputBudgetsRefuseWithADiagnostic() throws {
    let repo = try SecurityRepo()
    func load(_ name: String, _ budget: InputBudget, _ r: Repository? = nil) -> [Diagnostic] {
      let repository = r ?? Repository(root: repo.root, budget: budget)
      do {
        _ = try repository.load(name)
        return []
      } catch { return error.diagnostics }
    }
    #expect(load("dev", .default).isEmpty)
    let env = load("dev", InputBudget(environmentBytes: 4_000))
    #expect(env.first?.rule == "budget-environment" && env.first?.location?.file.hasPrefix("environments/") == true, "\(env)")
    let files = load("dev", InputBudget(environmentFiles: 2))
    #expect(files.first?.rule == "budget-environment" && files.first?.message.contains("files") == true, "\(files)")
    // The run's budget is shared by the environments one repository value loads.
    let devFiles = try Repository(root: repo.root).load("dev").sourceFiles
    let devBytes = try devFiles.reduce(0) { total, f in
      total + ((try FileManager.default.attributesOfItem(atPath: repo.root + "/" + f.path)[.size] as? NSNumber)?.intValue ?? 0)
    }
    let shared = Repository(root: repo.root, budget: InputBudget(runBytes: devBytes + 100))
    let first = load("dev", .default, shared)
    let second = load("staging", .default, shared)
    let third = load("prod", .default, shared)
    #expect(first.isEmpty)
    #expect((second + third).contains { $0.rule == "budget-run" }, "\(second + third)")
    // The command says so too.
    // Three manifests of 6 MB: each under the per-file limit, together over the environment's.
    let filler = "# " + String(repeating: "x", count: 6 << 20) + "\n"
    for i in 0..<3 { _ = try repo.dir.write("repo/environments/dev/manifests/big-\(i).yaml", filler) }
    let r = try repo.run(["validate", "dev"])
    #expect(r.exitCode == 1 && r.stdout.contains("over hk's limit of \(16 << 20) per environment"), "\(r.stdout.prefix(2000))")
  }

  /// A scratch directory left by a killed hk (kubeconfig inside) is swept by the next apply;
  /// scratch directories are new (mkdtemp), 0700, and gone after the apply.
  @Test func staleScratchIsSweptAndNewScratchIsPrivate() throws {
    let repo = try SecurityRepo()
    let tmp = try repo.dir.makeDirectory("tmp")
    // A PID that is surely gone: a child that already exited.
    let done = try runProcess("/bin/sh", ["-c", "echo $$"], env: [:], cwd: "/", timeout: 10)
    let deadPID = done.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    let stale = tmp + "/hk-scratch-dev-\(deadPID)-Ab12Cd"
    try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
    try "apiVersion: v1\nusers: [{name: admin, user: {token: x}}]\n".write(toFile: stale + "/kubeconfig", atomically: true, encoding: .utf8)
    let alive = tmp + "/hk-scratch-dev-1-Zz99Yy"  // PID 1 lives
    try FileManager.default.createDirectory(atPath: alive, withIntermediateDirectories: true)
    let unrelated = tmp + "/hk-config-tests-123-456"
    try FileManager.default.createDirectory(atPath: unrelated, withIntermediateDirectories: true)

    // A kops that exists (so apply gets past its check for one) and fails.
    try repo.marker(repo.dir.path + "/bin/failing-kops", tag: "kops", log: repo.dir.path + "/kops.log")
    let r = try repo.run(["apply", "dev", "--yes"], env: ["HK_KOPS": repo.dir.path + "/bin/failing-kops", "TMPDIR": tmp])
    #expect(r.exitCode != 0)
    #expect(!FileManager.default.fileExists(atPath: stale), "the stale scratch (with its kubeconfig) was not swept")
    #expect(FileManager.default.fileExists(atPath: alive) && FileManager.default.fileExists(atPath: unrelated))
    let left = try FileManager.default.contentsOfDirectory(atPath: tmp).filter { $0.hasPrefix("hk-scratch-") }
    #expect(left == ["hk-scratch-dev-1-Zz99Yy"], "\(left)")

    let a = try Scratch.create(environment: "dev", in: tmp)
    let b = try Scratch.create(environment: "dev", in: tmp)
    #expect(a != b && a.hasPrefix(tmp + "/hk-scratch-dev-\(getpid())-"))
    let mode = (try FileManager.default.attributesOfItem(atPath: a)[.posixPermissions] as? NSNumber)?.intValue
    #expect(mode == 0o700)
    #expect(Scratch.sweep(in: tmp).isEmpty, "this process's own scratch is not stale")
    #expect((try? Scratch.create(environment: "dev", in: tmp + "/missing")) == nil)
  }
}
