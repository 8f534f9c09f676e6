import Foundation
import Model
import Testing

@testable import Store

/// Opening refuses what it cannot use, with a message, and without creating or writing anything.
///
/// Tests here run as root in CI: root passes every `access(2)` check, so the store treats
/// permission bits as intent when running as root (a 0444 file or a 0555 directory is
/// read-only). These tests therefore hold for root and for ordinary users alike.
@Suite struct OpeningTests {
  @Test func newerSchemaIsRefusedWithoutModification() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    do {
      let store = try SQLiteStateStore(path: path)
      try store.record(draft(), expectedPrior: nil, actor: tester, note: "first")
      try store.executeForTesting("INSERT INTO grdb_migrations (identifier) VALUES ('v2: from the future')")
      try store.close()
    }
    let before = try #require(bytes(path))

    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: path) }
    #expect(error == .newerSchema(path: path, unknownMigrations: ["v2: from the future"]))
    let message = try #require(error.errorDescription)
    #expect(message.hasPrefix("state database \(path) was written by a newer hk (schema v2: from the future)"))
    #expect(message.contains("upgrade hk"))
    #expect(bytes(path) == before)
    // Refused again: the failed open left nothing that would let it through.
    #expect(throws: StoreError.self) { try SQLiteStateStore(path: path) }
    #expect(bytes(path) == before)
  }

  /// A read-only file or folder is read through a private copy (migrated when older) that
  /// disappears with the store; the file itself is never touched. A newer schema is still refused.
  @Test func aReadOnlyDatabaseIsReadFromASnapshot() throws {
    let scratch = try ScratchDirectory()
    defer {
      chmod(scratch.path, 0o755)
      scratch.remove()
    }
    let path = scratch.file("hk.sqlite")
    do {
      let store = try SQLiteStateStore(path: path)
      try store.record(draft(pendingRolls: ["nodes-a"]), expectedPrior: nil, actor: tester, note: "first")
      try store.close()
    }
    let before = try #require(bytes(path))
    #expect(chmod(path, 0o444) == 0)
    #expect(throws: StoreError.self) { try SQLiteStateStore(path: path) }

    var folders: [String] = []
    for readOnlyFolder in [false, true] {
      if readOnlyFolder { #expect(chmod(scratch.path, 0o555) == 0) }
      let store = try SQLiteStateStore.openSnapshot(path: path)
      #expect(store.location == path)
      #expect(try store.recorded("prod")?.pendingRolls == ["nodes-a"])
      #expect(try store.environments().map(\.name) == ["prod"])
      let folder = try #require(store.snapshotFolder)
      #expect(FileManager.default.fileExists(atPath: folder + "/hk.sqlite"))
      folders.append(folder)
      try store.close()
    }
    // The copies are gone with their stores; the file and its folder are as they were.
    #expect(folders.count == 2 && folders.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    #expect(bytes(path) == before)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["hk.sqlite"])

    // A writable file is opened in place, as init(path:) opens it.
    chmod(scratch.path, 0o755)
    chmod(path, 0o644)
    #expect(try SQLiteStateStore.openSnapshot(path: path).recorded("prod") != nil)
  }

  @Test func aReadOnlyDatabaseOfANewerHKIsStillRefused() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    do {
      let store = try SQLiteStateStore(path: path)
      try store.executeForTesting("INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
      try store.close()
    }
    chmod(path, 0o444)
    let before = bytes(path)
    let error = try #require(throws: StoreError.self) { try SQLiteStateStore.openSnapshot(path: path) }
    #expect(error == .newerSchema(path: path, unknownMigrations: ["v99: from the future"]))
    #expect(bytes(path) == before)
  }

  @Test func directoryPathIsRefused() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: scratch.path) }
    #expect(error == .isADirectory(path: scratch.path))
    #expect(error.errorDescription?.contains("--state-db \(scratch.path)/hk.sqlite") == true)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
  }

  @Test func garbageFileIsRefusedAndLeftAlone() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let garbage = Data("cluster: this is YAML, not SQLite\n".utf8) + Data((0..<5000).map { UInt8($0 % 251) })
    try garbage.write(to: URL(fileURLWithPath: path))

    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: path) }
    #expect(error == .notADatabase(path: path))
    #expect(error.errorDescription?.contains("is not an SQLite database") == true)
    #expect(bytes(path) == garbage)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["hk.sqlite"])
  }

  @Test func damagedDatabaseBehindAValidHeaderIsRefusedAndLeftAlone() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    let damaged = Data("SQLite format 3\0".utf8) + Data(repeating: 0xA5, count: 8192)
    try damaged.write(to: URL(fileURLWithPath: path))

    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: path) }
    switch error {
    case .notADatabase, .corrupted: break
    default: Issue.record("unexpected error \(error)")
    }
    #expect(bytes(path) == damaged)
    #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["hk.sqlite"])
  }

  @Test func emptyFileBecomesANewDatabase() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    #expect(FileManager.default.createFile(atPath: path, contents: Data()))
    let store = try SQLiteStateStore(path: path)
    #expect(try store.appliedMigrations() == SQLiteStateStore.schemaMigrations)
  }

  @Test func readOnlyFileIsRefusedAndLeftAlone() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    try SQLiteStateStore(path: path).close()
    let before = try #require(bytes(path))
    try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: path)

    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: path) }
    #expect(error == .unwritable(path: path, reason: "the file is read-only"))
    #expect(error.errorDescription?.contains("cannot write state database \(path)") == true)
    #expect(bytes(path) == before)
  }

  @Test func unreadableFileIsRefused() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let path = scratch.file("hk.sqlite")
    try SQLiteStateStore(path: path).close()
    try FileManager.default.setAttributes([.posixPermissions: 0o200], ofItemAtPath: path)

    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: path) }
    #expect(error == .unreadable(path: path))
    #expect(error.errorDescription?.contains("permission denied") == true)
  }

  @Test func readOnlyDirectoryIsRefusedAndNothingIsCreated() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let directory = scratch.file("state")
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let existing = directory + "/hk.sqlite"
    try SQLiteStateStore(path: existing).close()
    let before = try #require(bytes(existing))
    let listing = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory)

    // An existing database in a read-only directory (SQLite needs to create -wal/-shm there).
    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: existing) }
    guard case .unwritable(let path, let reason) = error else {
      Issue.record("expected unwritable, got \(error)")
      return
    }
    #expect(path == existing)
    #expect(reason.contains("is read-only"))
    #expect(bytes(existing) == before)

    // A new database in a read-only directory.
    let missing = directory + "/other.sqlite"
    #expect(throws: StoreError.self) { try SQLiteStateStore(path: missing) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == listing)

    // A missing directory below a read-only one cannot be created.
    let deeper = directory + "/sub/hk.sqlite"
    #expect(throws: StoreError.self) { try SQLiteStateStore(path: deeper) }
    #expect(!exists(directory + "/sub"))
  }

  @Test func pathThroughAFileIsRefused() throws {
    let scratch = try ScratchDirectory()
    defer { scratch.remove() }
    let file = scratch.file("state")
    try Data("x".utf8).write(to: URL(fileURLWithPath: file))
    let error = try #require(throws: StoreError.self) { try SQLiteStateStore(path: file + "/hk.sqlite") }
    guard case .unwritable = error else {
      Issue.record("expected unwritable, got \(error)")
      return
    }
    #expect(bytes(file) == Data("x".utf8))
  }

  @Test func everyErrorSaysWhatToDo() {
    let lock = LockInfo(
      environment: "prod", lockID: "id-1", host: "h", pid: 1, user: "u", command: "hk apply prod", startedAt: Date())
    let errors: [StoreError] = [
      .conflict(expected: nil, actual: PriorState(serial: 1, lineage: "l")), .locked(lock),
      .newerSchema(path: "p", unknownMigrations: ["v9"]), .notADatabase(path: "p"),
      .corrupted(path: "p", detail: "d"), .isADirectory(path: "p"), .unreadable(path: "p"),
      .unwritable(path: "p", reason: "r"), .busy(path: "p"), .noSuchLock(environment: "e", lockID: "i"),
      .lockMismatch(environment: "e", lockID: "i", holder: lock), .planExists(id: "i"), .noSuchRun(id: 1),
      .noSuchJournalEntry(id: 1), .databaseFailure(path: "p", message: "m"),
    ]
    let advice = ["run", "upgrade", "point", "restore", "pass", "fix", "retry", "wait", "make", "check"]
    for error in errors {
      let message = error.errorDescription ?? ""
      #expect(advice.contains { message.contains($0) }, "\(error) gives no next step: \(message)")
    }
  }
}
