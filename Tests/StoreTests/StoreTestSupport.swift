import Foundation
import GRDB
import Model
import Synchronization

@testable import Store

/// A fresh directory under the system temporary directory, removed by ``remove()``.
struct ScratchDirectory {
  let path: String

  init() throws {
    path =
      FileManager.default.temporaryDirectory
      .appendingPathComponent("hk-store-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  }

  func file(_ name: String) -> String { path + "/" + name }

  /// Restores write permission everywhere (tests chmod things) and deletes the tree.
  func remove() {
    if let enumerator = FileManager.default.enumerator(atPath: path) {
      for case let name as String in enumerator {
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file(name))
      }
    }
    try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
    try? FileManager.default.removeItem(atPath: path)
  }
}

func draft(
  _ environment: String = "prod", cluster: String = "kind: Cluster\nmetadata:\n  name: prod.k8s.corp.local\n",
  groups: [String] = ["kind: InstanceGroup\nmetadata:\n  name: nodes-a\n"], cloudUpdated: Bool = true,
  pendingRolls: [String] = [], igwAttached: Bool = false
) -> RecordedStateDraft {
  RecordedStateDraft(
    environment: environment, clusterYAML: cluster, instanceGroupsYAML: groups, cloudUpdated: cloudUpdated,
    pendingRolls: pendingRolls, igwAttached: igwAttached, kopsVersion: "1.28.4", desiredDigest: "sha256:abc")
}

/// One environment, `prod` (lineage `L`), with one revision at serial 1 (cloud updated), as the
/// oldest schemas can hold it.
let oldProdRevision = """
  INSERT INTO "environment" VALUES ('prod', 'L', 1, '2026-01-01 00:00:00.000');
  INSERT INTO "revision" ("environment", "serial", "lineage", "clusterYAML", "instanceGroupsYAML",
    "cloudUpdated", "pendingRolls", "igwAttached", "createdAt", "createdBy", "command", "note")
  VALUES ('prod', 1, 'L', 'kind: Cluster', '[]', 1, '[]', 0, '2026-01-01 00:00:00.000', 'a@b', 'hk apply', 'old');
  """

/// A database as an older hk left it: `scratch`'s `hk.sqlite`, migrated up to and including the
/// `index`th of ``SQLiteStateStore/schemaMigrations`` only, holding the rows `sql` inserts.
/// Returns its path (open it with `SQLiteStateStore` to migrate it the rest of the way).
func oldDatabase(in scratch: ScratchDirectory, migratedThrough index: Int, sql: String) throws -> String {
  let path = scratch.file("hk.sqlite")
  let migrations = SQLiteStateStore.schemaMigrations
  guard index < migrations.count else { throw StoreTestError("no migration \(index + 1)") }
  let queue = try DatabaseQueue(path: path)
  try Schema.migrator.migrate(queue, upTo: migrations[index])
  try queue.write { db in try db.execute(sql: sql) }
  return path
}

struct StoreTestError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}

let tester = StoreActor(user: "alice", host: "ci-runner-1", pid: 4242, command: "hk apply prod")

/// Runs `body(0..<count)` on `count` threads released together; returns the results in index order.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
  let results = Mutex<[Int: T]>([:])
  let start = DispatchSemaphore(value: 0)
  let done = DispatchGroup()
  for index in 0..<count {
    done.enter()
    let thread = Thread {
      start.wait()
      let value = body(index)
      results.withLock { $0[index] = value }
      done.leave()
    }
    thread.start()
  }
  for _ in 0..<count { start.signal() }
  done.wait()
  return results.withLock { dict in (0..<count).compactMap { dict[$0] } }
}

/// The bytes of a file, or nil when it cannot be read.
func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

/// The pid of a process that has exited and been reaped.
func deadPID() throws -> Int32 {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments = ["-c", "exit 0"]
  try process.run()
  process.waitUntilExit()
  return process.processIdentifier
}

extension RecordedState {
  /// The (serial, lineage) a caller that read this revision passes on.
  var prior: PriorState { PriorState(serial: serial, lineage: lineage) }
}
