import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// The recorded state in S3 (`s3://BUCKET/KEY`, DESIGN.md §8), end to end: hk as a process,
/// the real aws CLI against the world's moto server, the kops double.
@Suite(.serialized) struct S3StateEndToEndTests {
  static let key = "hk/state.sqlite"

  @Test func theSampleAppliesWithNoLocalStateAndEveryUploadIsAVersion() throws {
    let w = try World()
    let bucket = try w.s3Bucket()
    let location = "s3://\(bucket)/\(Self.key)"
    let first = try w.hk(w.applyArgs(["dev"]), env: [:], db: location)
    #expect(first.exitCode == 0, "\(first)")
    #expect(first.stdout.contains("dev: applied 5 steps; recorded serial 1."))
    #expect(first.stderr.contains("first use of this location"), "\(first.stderr)")
    #expect(!FileManager.default.fileExists(atPath: w.root + "/state"), "no local state file or folder")
    try w.edit("environments/dev/cluster.yaml") { $0.replacingOccurrences(of: "awslogs-group=/k8s/dev", with: "awslogs-group=/k8s/dev-v2") }
    let second = try w.hk(w.applyArgs(["dev"]), env: [:], db: location)
    #expect(second.exitCode == 0, "\(second)")
    let versions = try w.s3Versions(bucket, Self.key)
    #expect(versions >= 2, "object versions: \(versions)")
    let history = try w.hk(["state", "history", "dev"], env: [:], db: location)
    #expect(history.exitCode == 0 && history.stdout.contains("2 ") && history.stdout.contains("1 "), "\(history)")
    let locks = try w.hk(["lock", "list"], env: [:], db: location)
    #expect(locks.exitCode == 0 && !locks.stdout.contains("dev"), "the lease was released: \(locks)")
    let plan = try w.hk(["plan", "dev", "--detailed-exitcode"], env: [:], db: location)
    #expect(plan.exitCode == 0, "converged: \(plan)")
  }

  @Test func migrateFromSQLiteToS3KeepsTheHistory() throws {
    let w = try World()
    #expect(try w.apply(["dev"]).exitCode == 0)
    try w.edit("environments/dev/cluster.yaml") { $0.replacingOccurrences(of: "awslogs-group=/k8s/dev", with: "awslogs-group=/k8s/dev-v2") }
    #expect(try w.apply(["dev"]).exitCode == 0)
    let location = "s3://\(try w.s3Bucket())/\(Self.key)"
    let migrated = try w.hk(["state", "migrate", "--to", location], env: [:])
    #expect(migrated.exitCode == 0, "\(migrated)")
    let local = try w.hk(["state", "history", "dev"], env: [:])
    let remote = try w.hk(["state", "history", "dev"], env: [:], db: location)
    #expect(local.exitCode == 0 && remote.exitCode == 0, "\(local)\n\(remote)")
    #expect(remote.stdout == local.stdout && local.stdout.contains("2 "))
  }

  @Test func anOutOfBandOverwriteFailsTheApplysNextWriteAndIsKept() throws {
    let w = try World()
    let bucket = try w.s3Bucket()
    let location = "s3://\(bucket)/\(Self.key)"
    let log = w.dir.path + "/apply.log"
    let apply = try w.spawnHK(w.applyArgs(["dev"]), env: ["FAKE_KOPS_SLEEP": "3"], log: log, db: location)
    defer { if apply.isRunning { kill(apply.processIdentifier, SIGKILL) } }
    // Once the apply has uploaded its first write, someone overwrites the object with other bytes.
    let copy = w.dir.path + "/copy.sqlite"
    let deadline = Date().addingTimeInterval(240)
    while Date() < deadline, apply.isRunning,
      (try? w.moto.aws(["s3api", "get-object", "--bucket", bucket, "--key", Self.key, copy])) == nil
    {
      Thread.sleep(forTimeInterval: 0.5)
    }
    #expect(apply.isRunning, "the apply was still running when the object was overwritten")
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: copy))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(repeating: 0, count: 512))
    try handle.close()
    let put = try w.moto.awsJSON(["s3api", "put-object", "--bucket", bucket, "--key", Self.key, "--body", copy])
    let theirs = put["ETag"]?.stringValue
    apply.waitUntilExit()
    let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
    #expect(apply.terminationStatus != 0, "\(output)")
    #expect(output.contains("the state object changed since this hk read it"), "\(output)")
    #expect(output.contains("nothing was overwritten"), "\(output)")
    let head = try w.moto.awsJSON(["s3api", "head-object", "--bucket", bucket, "--key", Self.key])
    #expect(head["ETag"]?.stringValue == theirs, "the out-of-band version is still the current one")
  }

  @Test func tenConcurrentAppliesExactlyOneRuns() throws {
    let w = try World()
    let bucket = try w.s3Bucket()
    let location = "s3://\(bucket)/\(Self.key)"
    let count = 10
    var processes: [Process] = []
    for i in 0..<count {
      processes.append(
        try w.spawnHK(w.applyArgs(["dev"]), env: ["FAKE_KOPS_SLEEP": "1"], log: w.dir.path + "/apply-\(i).log", db: location))
    }
    for p in processes { p.waitUntilExit() }
    let logs = (0..<count).map { (try? String(contentsOfFile: w.dir.path + "/apply-\($0).log", encoding: .utf8)) ?? "" }
    let winners = processes.indices.filter { processes[$0].terminationStatus == 0 }
    #expect(winners.count == 1, "exit codes \(processes.map(\.terminationStatus))\n\(logs.joined(separator: "\n---\n"))")
    let refused = processes.indices.filter { processes[$0].terminationStatus == 1 && logs[$0].contains("locked by") }
    #expect(refused.count == count - 1, "\(logs.joined(separator: "\n---\n"))")
    let runs = try w.s3Store(bucket, Self.key).runs("dev", limit: 100)
    #expect(runs.count == 1 && runs.first?.result == .succeeded, "\(runs)")
    #expect(try w.hk(["plan", "dev", "--detailed-exitcode"], env: [:], db: location).exitCode == 0)
  }

  @Test func aKilledApplysLeaseIsTakenOverAfterItsTTLAndTheNextApplyConverges() throws {
    let w = try World()
    let bucket = try w.s3Bucket()
    let location = "s3://\(bucket)/\(Self.key)"
    let ttl = ["HK_LOCK_TTL": "20"]
    let apply = try w.spawnHK(
      w.applyArgs(["dev"]), env: ttl.merging(["FAKE_KOPS_SLEEP": "3"]) { a, _ in a }, log: w.dir.path + "/killed.log", db: location)
    let deadline = Date().addingTimeInterval(240)
    let copy = w.dir.path + "/probe.sqlite"
    while Date() < deadline, apply.isRunning,
      (try? w.moto.aws(["s3api", "get-object", "--bucket", bucket, "--key", Self.key, copy])) == nil
    {
      Thread.sleep(forTimeInterval: 0.5)
    }
    kill(apply.processIdentifier, SIGKILL)
    apply.waitUntilExit()
    let killedAt = Date()
    let refused = try w.hk(w.applyArgs(["dev"]), env: ttl, db: location)
    if Date().timeIntervalSince(killedAt) < 15 {
      #expect(refused.exitCode == 1 && (refused.stdout + refused.stderr).contains("locked by"), "\(refused)")
    }
    let wait = 21 - Date().timeIntervalSince(killedAt)
    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
    let taken = try w.hk(w.applyArgs(["dev"]), env: ttl, db: location)
    #expect(taken.exitCode == 0, "\(taken)")
    let runs = try w.s3Store(bucket, Self.key).runs("dev", limit: 10)
    #expect(runs.first?.result == .succeeded && runs.contains { $0.result == .interrupted }, "\(runs)")
    #expect(try w.hk(["plan", "dev", "--detailed-exitcode"], env: [:], db: location).exitCode == 0)
  }

  @Test func badLocationsAreOneClearLineAndWriteNothing() throws {
    let w = try World()
    let bucket = try w.s3Bucket()
    func check(_ location: String, _ args: [String], _ expected: String) throws {
      let r = try w.hk(args, env: [:], db: location)
      let lines = r.stderr.split(separator: "\n").filter { !$0.hasPrefix("hk: ") }
      #expect(r.exitCode == 1 && lines.count == 1 && r.stderr.contains(expected), "\(location): \(r)")
    }
    try check("s3://hk-no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())/hk/state.sqlite", w.applyArgs(["dev"]), "does not exist")
    try check("s3://\(bucket)/hk/", ["state", "list"], "ends in '/'")
    try check("s3://\(bucket)/hk/", w.applyArgs(["dev"]), "ends in '/'")
    let text = w.dir.path + "/notes.txt"
    try "not a database\n".write(toFile: text, atomically: true, encoding: .utf8)
    try w.moto.aws(["s3api", "put-object", "--bucket", bucket, "--key", "notes.txt", "--body", text])
    try check("s3://\(bucket)/notes.txt", w.applyArgs(["dev"]), "is not an SQLite database")
    try check("s3://\(bucket)/notes.txt", ["state", "list"], "is not an SQLite database")
    // A bucket (or S3 clone) that ignores conditional headers: the real aws CLI and moto, with
    // --if-match/--if-none-match never reaching the server.
    let aws = try #require(resolveTool("aws"))
    let deaf = w.dir.path + "/bin/aws-no-conditions"
    let script = [
      "#!/bin/sh",
      #"for a in "$@"; do shift; case "$a" in --if-match=*|--if-none-match=*) ;; *) set -- "$@" "$a" ;; esac; done"#,
      "exec '\(aws)' \"$@\"", "",
    ]
    try script.joined(separator: "\n").write(toFile: deaf, atomically: true, encoding: .utf8)
    chmod(deaf, 0o755)
    let ignored = try w.hk(w.applyArgs(["dev"]), env: ["HK_AWS": deaf], db: "s3://\(bucket)/hk/state.sqlite")
    #expect(ignored.exitCode == 1 && ignored.stdout.contains("does not honour conditional writes"), "\(ignored)")
    #expect(ignored.stdout.contains("nothing ran") && !ignored.stdout.contains("wait for the other apply"), "\(ignored)")
    #expect(w.successfulCalls("update").isEmpty && w.successfulCalls("create").isEmpty, "kops never ran")
    let keys = try w.moto.awsJSON(["s3api", "list-objects-v2", "--bucket", bucket])["Contents"]?.arrayValue?.compactMap {
      $0["Key"]?.stringValue
    }
    #expect(keys == ["notes.txt"], "nothing written: \(String(describing: keys))")
  }
}

extension World {
  /// `hk apply ENVS --yes` with fast validation polling, as arguments.
  func applyArgs(_ envs: [String]) -> [String] { ["apply"] + envs + ["--yes", "--validate-interval", "0.2", "--validate-timeout", "60"] }

  /// A new bucket in this world's moto, versioning on.
  func s3Bucket() throws -> String {
    let bucket = "hk-state-" + UUID().uuidString.lowercased().prefix(13)
    try moto.aws(["s3api", "create-bucket", "--bucket", bucket, "--create-bucket-configuration", "LocationConstraint=\(moto.region)"])
    try moto.aws(["s3api", "put-bucket-versioning", "--bucket", bucket, "--versioning-configuration", "Status=Enabled"])
    return bucket
  }

  /// How many versions of `key` the bucket holds.
  func s3Versions(_ bucket: String, _ key: String) throws -> Int {
    let json = try moto.awsJSON(["s3api", "list-object-versions", "--bucket", bucket, "--prefix", key])
    return (json["Versions"]?.arrayValue ?? []).filter { $0["Key"]?.stringValue == key }.count
  }

  /// The state object, downloaded and opened as the SQLite file it is.
  func s3Store(_ bucket: String, _ key: String) throws -> SQLiteStateStore {
    let file = dir.path + "/downloaded-\(UUID().uuidString).sqlite"
    try moto.aws(["s3api", "get-object", "--bucket", bucket, "--key", key, file])
    return try SQLiteStateStore(path: file)
  }
}
