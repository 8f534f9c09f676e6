import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

// MARK: - Running the cases

/// What one invocation of hk did with a hostile input.
struct HostileInvocation {
  var args: [String]
  var result: ProcessResult
  var crashed: Bool
  var positioned: [(file: String, line: Int)]
  var clear: Bool
}

/// What one hostile input did across its invocations.
struct HostileOutcome {
  var input: HostileInput
  var invocations: [HostileInvocation] = []
  var databaseWritten = false
  var canary = false
  var skipped: String? = nil

  var crashed: Bool { invocations.contains(where: \.crashed) }
  var refused: Bool { invocations.contains { $0.result.exitCode != 0 } }
  /// Failing invocations that lack the message form the input requires.
  var unclear: [HostileInvocation] {
    invocations.filter { inv in
      guard inv.result.exitCode != 0, !inv.crashed else { return false }
      switch input.expect {
      case .positioned: return inv.positioned.isEmpty
      case .clearError: return inv.positioned.isEmpty && !inv.clear
      }
    }
  }
  /// A diagnostic names the expected file and line (types only).
  var exactHit: Bool? {
    guard case .positioned(let file?, let line?) = input.expect else { return nil }
    return invocations.contains { $0.positioned.contains { $0.file.hasSuffix(file) && $0.line == line } }
  }
  /// A diagnostic names the expected file (types only).
  var fileHit: Bool? {
    guard case .positioned(let file?, _?) = input.expect else { return nil }
    return invocations.contains { $0.positioned.contains { $0.file.hasSuffix(file) } }
  }
}

/// Runs hostile inputs through hk, two at a time, each worker in its own copy of the sample
/// repository with its own copy of a real state database.
enum HostileHarness {
  static let crashMarkers = [
    "Fatal error", "fatal error:", "Illegal instruction", "Segmentation fault", "Current stack trace", "Program crashed",
    "Trace/breakpoint", "Aborted", "Stack dump",
  ]

  /// Positions of `file:line:col: error:` diagnostics in `text`.
  static func positions(_ text: String) -> [(file: String, line: Int)] {
    var out: [(String, Int)] = []
    for line in text.split(separator: "\n") {
      guard let r = line.range(of: ": error: ") else { continue }
      let parts = line[..<r.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
      guard parts.count >= 3, let l = Int(parts[parts.count - 2]), Int(parts[parts.count - 1]) != nil, l >= 1 else { continue }
      out.append((parts.dropLast(2).joined(separator: ":"), l))
    }
    return out
  }

  static func classify(_ args: [String], _ r: ProcessResult) -> HostileInvocation {
    let all = r.stdout + "\n" + r.stderr
    let crashed = r.timedOut || r.exitCode >= 128 || ![0, 1, 2, 64].contains(r.exitCode) || crashMarkers.contains { r.stderr.contains($0) }
    // `Error: …` (argument-parser) or `error: …` (a diagnostic without a position), on either
    // stream, saying more than a word.
    let clear = [r.stderr, r.stdout].contains { text in
      guard let start = text.range(of: "Error: ") ?? text.range(of: "error: ") else { return false }
      let rest = text[start.upperBound...]
      return rest.count >= 20 && (start.lowerBound == text.startIndex || text[text.index(before: start.lowerBound)] == "\n")
    }
    return HostileInvocation(args: args, result: r, crashed: crashed, positioned: positions(all), clear: clear)
  }

  /// Whether this process can run hk as `nobody` (needed for the permission cases as root).
  static var asNobody: [String]? {
    guard getuid() == 0 else { return [] }
    guard let setpriv = findExecutable("setpriv") else { return nil }
    return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
  }

  /// A prepared scratch area: a golden state database and one repository copy per worker.
  final class Fixture: @unchecked Sendable {
    let dir: TemporaryDirectory
    let hk: String
    let workers: Int
    let golden: String

    init(workers: Int) throws {
      dir = try TemporaryDirectory(prefix: "hk-hostile")
      chmod(dir.path, 0o755)
      hk = try TestProducts.executable("hk")
      self.workers = workers
      golden = dir.file("golden.sqlite")
      // A real state database with a recorded revision of dev and a finished run.
      let store = try SQLiteStateStore(path: golden)
      let actor = StoreActor(user: "ci", host: "runner", pid: 1, command: "hk apply dev")
      // What an apply records: the cluster document alone (the file also holds instance groups).
      let file = String(decoding: HostileCorpus.original(HostileCorpus.clusterFile), as: UTF8.self)
      let text = file.components(separatedBy: "\n---\n").first ?? file
      try store.record(
        RecordedStateDraft(
          environment: "dev", clusterYAML: text, instanceGroupsYAML: [], cloudUpdated: true, pendingRolls: [], igwAttached: false),
        expectedPrior: nil, actor: actor, note: "fixture", planID: nil, newLineage: true)
      let run = try store.beginRun(environment: "dev", command: "hk apply dev", planID: nil, actor: actor)
      try store.finishRun(runID: run, result: .succeeded, message: "")
      try store.close()
      let fm = FileManager.default
      for i in 0..<workers {
        try fm.createDirectory(atPath: dir.file("w\(i)/repo"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: packageRoot + "/environments", toPath: dir.file("w\(i)/repo/environments"))
        try fm.createDirectory(atPath: dir.file("w\(i)/repo/state"), withIntermediateDirectories: true)
        try fm.copyItem(atPath: golden, toPath: dir.file("w\(i)/repo/state/hk.sqlite"))
        try fm.createDirectory(atPath: dir.file("w\(i)/home"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: dir.file("w\(i)/hostile"), withIntermediateDirectories: true)
        for d in ["w\(i)", "w\(i)/repo", "w\(i)/repo/state", "w\(i)/home", "w\(i)/hostile"] { chmod(dir.file(d), 0o777) }
        chmod(dir.file("w\(i)/repo/state/hk.sqlite"), 0o666)
      }
    }
  }

  static let shared = Locked<Fixture?>(nil)

  static func fixture() throws -> Fixture {
    try shared.withLock { f in
      if let f { return f }
      let made = try Fixture(workers: 2)
      ReliabilityCleanup.add(path: made.dir.path)
      f = made
      return made
    }
  }

  /// Runs the inputs; records the figures; fails the test on a crash, a hang, a write to the
  /// state database, a canary file or a failure without a clear message.
  static func run(_ category: String, _ inputs: [HostileInput], exactPositions: Bool = false) throws {
    let fixture = try fixture()
    let results = Locked<[HostileOutcome]>([])
    let next = Locked(0)
    DispatchQueue.concurrentPerform(iterations: fixture.workers) { worker in
      while true {
        let i = next.withLock { n -> Int in
          defer { n += 1 }
          return n
        }
        guard i < inputs.count else { return }
        let outcome = runOne(inputs[i], worker: worker, fixture: fixture)
        results.withLock { $0.append(outcome) }
      }
    }
    let outcomes = results.withLock { $0 }
    let ran = outcomes.filter { $0.skipped == nil }
    let crashed = ran.filter(\.crashed)
    let written = ran.filter(\.databaseWritten)
    let canaries = ran.filter(\.canary)
    let unclear = ran.filter { !$0.unclear.isEmpty }
    let refused = ran.filter(\.refused)
    let exact = ran.compactMap(\.exactHit)
    let hangs = ran.filter { $0.invocations.contains { $0.result.timedOut } }
    func sample(_ list: [HostileOutcome], _ detail: (HostileOutcome) -> String) -> JSONValue {
      .array(list.prefix(5).map { .string($0.input.label + ": " + String(detail($0).prefix(400))) })
    }
    ReliabilityReport.append(
      "hostile",
      [
        ("category", .string(category)), ("cases", .int(Int64(ran.count))),
        ("invocations", .int(Int64(ran.reduce(0) { $0 + $1.invocations.count }))),
        ("crashes", .int(Int64(crashed.count))), ("hangs", .int(Int64(hangs.count))), ("refused", .int(Int64(refused.count))),
        ("accepted", .int(Int64(ran.count - refused.count))),
        ("positioned", .int(Int64(refused.filter { $0.invocations.contains { !$0.positioned.isEmpty } }.count))),
        ("unclear", .int(Int64(unclear.count))), ("dbWrites", .int(Int64(written.count))), ("canaries", .int(Int64(canaries.count))),
        ("exactPosition", exact.isEmpty ? .null : .string("\(exact.filter { $0 }.count)/\(exact.count)")),
        ("notExact", .array(ran.filter { $0.exactHit == false }.map { .string($0.input.label) })),
        ("skipped", .array(outcomes.compactMap { o in o.skipped.map { .string(o.input.label + ": " + $0) } })),
        ("crashSamples", sample(crashed) { o in o.invocations.first(where: \.crashed).map { "\($0.args) \($0.result)" } ?? "" }),
        ("unclearSamples", sample(unclear) { o in o.unclear.first.map { "\($0.args) \($0.result)" } ?? "" }),
      ])
    #expect(
      crashed.count == 0,
      "\(category): \(crashed.count) crashed: \(crashed.prefix(3).map { o in "\(o.input.label): \(o.invocations.first(where: \.crashed).map { "\($0.args) \($0.result)" } ?? "")" })"
    )
    #expect(written.count == 0, "\(category): the state database was written by \(written.prefix(5).map(\.input.label))")
    #expect(canaries.count == 0, "\(category): a canary file appeared: \(canaries.prefix(5).map(\.input.label))")
    #expect(
      unclear.count == 0,
      "\(category): \(unclear.count) failed without a positioned diagnostic or clear error: \(unclear.prefix(3).map { o in "\(o.input.label): \(o.unclear.first.map { "\($0.args) \($0.result)" } ?? "")" })"
    )
    if exactPositions {
      // Every refusal points into the file that holds the wrong value (most at its very line;
      // the rest at the offending child or the enclosing document: see the figures).
      let misses = ran.filter { $0.fileHit == false && $0.refused }
      #expect(
        misses.count == 0,
        "\(category): \(misses.count) diagnostics do not point into the changed file: \(misses.prefix(5).map { o in "\(o.input.label) (expected \(o.input.expect)): \(o.invocations.first.map { ($0.result.stdout + $0.result.stderr).prefix(400) } ?? "")" })"
      )
      let accepted = ran.filter { !$0.refused }
      #expect(accepted.count == 0, "\(category): wrong types accepted: \(accepted.map(\.input.label))")
    }
  }

  static func runOne(_ input: HostileInput, worker: Int, fixture: Fixture) -> HostileOutcome {
    var outcome = HostileOutcome(input: input)
    let fm = FileManager.default
    let base = fixture.dir.file("w\(worker)")
    let repo = base + "/repo"
    let db = repo + "/state/hk.sqlite"
    // Write the input.
    var restore: [(String, Data?)] = []
    for (path, make) in input.files {
      let full = repo + "/" + path
      restore.append((full, fm.contents(atPath: full)))
      _ = fm.createFile(atPath: full, contents: Data(make()))
    }
    var extraDirs: [String] = []
    for name in input.extraEnvironments {
      let d = repo + "/environments/" + name
      if (try? fm.copyItem(atPath: repo + "/environments/dev", toPath: d)) != nil { extraDirs.append(d) }
    }
    defer {
      for (path, data) in restore {
        if let data { _ = fm.createFile(atPath: path, contents: data) } else { try? fm.removeItem(atPath: path) }
      }
      for d in extraDirs { try? fm.removeItem(atPath: d) }
      let hostile = base + "/hostile"
      for item in (try? fm.contentsOfDirectory(atPath: hostile)) ?? [] {
        chmod(hostile + "/" + item, 0o777)
        try? fm.removeItem(atPath: hostile + "/" + item)
      }
    }

    // The state database the commands use.
    var statePath = db
    var prefix: [String] = []
    var writers = true
    if let kind = input.stateDB {
      guard let p = makeHostileDatabase(kind, in: base + "/hostile", golden: fixture.golden) else {
        outcome.skipped = "cannot build this state database here"
        return outcome
      }
      statePath = p
      if [.readOnlyFile, .readOnlyDirectory, .unreadableFile].contains(kind) {
        guard let nobody = asNobody else {
          outcome.skipped = "running as root without setpriv: permissions cannot be tested"
          return outcome
        }
        prefix = nobody
      }
      if kind == .empty || kind == .danglingSymlink { writers = false }  // a usable (new) database: apply would create it
    }
    let before = snapshot(statePath)
    let dbBefore = snapshot(db)

    var env: [String: String] = [
      "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": base + "/home", "NO_COLOR": "1",
      "HK_KOPS": "/nonexistent/kops", "HK_AWS": "/nonexistent/aws", "LANG": "C.UTF-8",
    ]
    env["HK_STATE_DB"] = nil
    func hk(_ args: [String]) {
      let full = args + ["--root", repo, "--state-db", statePath]
      let result: ProcessResult
      do {
        if prefix.isEmpty {
          result = try runProcess(fixture.hk, full, env: env, cwd: repo, timeout: 60)
        } else {
          result = try runProcess(prefix[0], Array(prefix.dropFirst()) + [fixture.hk] + full, env: env, cwd: repo, timeout: 60)
        }
      } catch {
        result = ProcessResult(exitCode: -1, stdout: "", stderr: "could not start hk: \(error)", timedOut: false)
      }
      outcome.invocations.append(classify(args, result))
    }
    switch input.commands {
    case .content(let name):
      // validate, then the writer (apply, which plans first) when validate refuses, else plan.
      hk(["validate", name])
      if outcome.invocations.first?.result.exitCode != 0 { hk(["apply", name, "--yes"]) } else { hk(["plan", name]) }
    case .name(let n):
      for args in [
        ["validate", n], ["plan", n], ["apply", n, "--yes"], ["drift", n], ["import", n], ["state", "show", n],
        ["state", "history", n], ["lock", "unlock", n, "--force", "x"],
      ] {
        hk(args)
      }
    case .allEnvironments:
      hk(["validate"])
      hk(["plan"])
    case .validateOnly(let name):
      hk(["validate", name])
    case .stateDatabase:
      hk(["plan", "dev"])
      hk(["state", "list"])
      hk(["state", "history", "dev"])
      hk(["state", "show", "dev"])
      hk(["lock", "list"])
      if writers {
        hk(["apply", "dev", "--yes"])
        hk(["lock", "unlock", "dev", "--force", "x"])
        hk(["drift", "dev"])
      }
    }
    outcome.databaseWritten = snapshot(statePath) != before || snapshot(db) != dbBefore
    outcome.canary = containsCanary(base)
    return outcome
  }

  /// Bytes (regular files), entries (directories) or link target: what "unchanged" means.
  static func snapshot(_ path: String) -> String {
    var info = stat()
    guard lstat(path, &info) == 0 else { return "absent" }
    switch info.st_mode & S_IFMT {
    case S_IFREG:
      let data = FileManager.default.contents(atPath: path) ?? Data()
      let wal = FileManager.default.contents(atPath: path + "-wal") ?? Data()
      var h = SHA256()
      h.update(data)
      return "file " + SHA256.hex(h.finalize()) + " wal \(wal.count)"
    case S_IFDIR:
      return "dir " + ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().joined(separator: ",")
    case S_IFLNK:
      return "link " + ((try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "")
    default:
      return "special \(info.st_mode & S_IFMT)"
    }
  }

  static func containsCanary(_ dir: String) -> Bool {
    guard let e = FileManager.default.enumerator(atPath: dir) else { return false }
    while let item = e.nextObject() as? String {
      if (item as NSString).lastPathComponent.hasPrefix("canary") { return true }
    }
    return FileManager.default.fileExists(atPath: FileManager.default.currentDirectoryPath + "/canary")
  }

  /// Builds a hostile state database under `dir`; returns the path to pass as `--state-db`.
  static func makeHostileDatabase(_ kind: HostileInput.StateDB, in dir: String, golden: String) -> String? {
    let fm = FileManager.default
    let path = dir + "/hk.sqlite"
    let good = fm.contents(atPath: golden) ?? Data()
    func write(_ data: Data, mode: mode_t = 0o666) -> String? {
      guard fm.createFile(atPath: path, contents: data) else { return nil }
      chmod(path, mode)
      return path
    }
    switch kind {
    case .directory:
      return (try? fm.createDirectory(atPath: path, withIntermediateDirectories: true)) != nil ? path : nil
    case .directoryWithFiles:
      guard (try? fm.createDirectory(atPath: path + "/state", withIntermediateDirectories: true)) != nil else { return nil }
      _ = fm.createFile(atPath: path + "/readme.txt", contents: Data("not a database".utf8))
      return path
    case .notSQLite: return write(Data("apiVersion: v1\nkind: Config\n".utf8))
    case .truncated: return write(good.prefix(1000))
    case .corruptedPages:
      var d = good
      var r = SplitMix64(seed: 0x6b5f_0004)
      for i in 4096..<min(d.count, 4096 * 6) { d[i] = UInt8(truncatingIfNeeded: r.next()) }
      return write(d)
    case .corruptedHeader:
      var d = good
      for i in 16..<min(d.count, 100) { d[i] = 0xFF }
      return write(d)
    case .empty: return write(Data())
    case .fifo: return mkfifo(path, 0o666) == 0 ? path : nil
    case .devNull: return "/dev/null"
    case .parentIsAFile:
      _ = fm.createFile(atPath: dir + "/file", contents: Data("x".utf8))
      return dir + "/file/hk.sqlite"
    case .symlinkLoop:
      guard symlink(dir + "/b", dir + "/a") == 0, symlink(dir + "/a", dir + "/b") == 0 else { return nil }
      return dir + "/a"
    case .danglingSymlink:
      return symlink(dir + "/missing/target.sqlite", path) == 0 ? path : nil
    case .readOnlyFile: return write(good, mode: 0o444)
    case .readOnlyDirectory:
      let sub = dir + "/ro"
      guard (try? fm.createDirectory(atPath: sub, withIntermediateDirectories: true)) != nil,
        fm.createFile(atPath: sub + "/hk.sqlite", contents: good)
      else { return nil }
      chmod(sub + "/hk.sqlite", 0o666)
      chmod(sub, 0o555)
      return sub + "/hk.sqlite"
    case .unreadableFile: return write(good, mode: 0o000)
    }
  }
}

/// A value behind a lock, for the workers.
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value
  init(_ value: Value) { self.value = value }
  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}
