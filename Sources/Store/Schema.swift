import Foundation
import GRDB
import Model

/// The database schema: string-named migrations, applied in order.
///
/// A migration is never edited once it has shipped; a change is a new migration
/// ("v2: …") appended here. The schema is written in SQL strings, never derived from the
/// record types below, so that an old migration keeps meaning what it meant.
enum Schema {
  static let migrator: DatabaseMigrator = {
    var migrator = DatabaseMigrator()
    migrator.registerMigration("v1: environments, revisions, plans, runs, journal, locks, drift reports") { db in
      try db.execute(
        sql: """
          CREATE TABLE "environment" (
            "name" TEXT NOT NULL PRIMARY KEY,
            "lineage" TEXT NOT NULL,
            "currentSerial" INTEGER NOT NULL CHECK ("currentSerial" >= 1),
            "createdAt" DATETIME NOT NULL
          );
          CREATE TABLE "revision" (
            "environment" TEXT NOT NULL REFERENCES "environment"("name") ON DELETE CASCADE,
            "serial" INTEGER NOT NULL CHECK ("serial" >= 1),
            "lineage" TEXT NOT NULL,
            "clusterYAML" TEXT NOT NULL,
            "instanceGroupsYAML" TEXT NOT NULL,
            "cloudUpdated" BOOLEAN NOT NULL CHECK ("cloudUpdated" IN (0, 1)),
            "pendingRolls" TEXT NOT NULL,
            "igwAttached" BOOLEAN NOT NULL CHECK ("igwAttached" IN (0, 1)),
            "kopsVersion" TEXT,
            "desiredDigest" TEXT,
            "createdAt" DATETIME NOT NULL,
            "createdBy" TEXT NOT NULL,
            "command" TEXT NOT NULL,
            "planID" TEXT,
            "note" TEXT NOT NULL,
            PRIMARY KEY ("environment", "serial")
          );
          CREATE TABLE "plan" (
            "id" TEXT NOT NULL PRIMARY KEY,
            "createdAt" DATETIME NOT NULL,
            "environmentsJSON" TEXT NOT NULL,
            "planJSON" TEXT NOT NULL,
            "bindingJSON" TEXT NOT NULL
          );
          CREATE TABLE "run" (
            "id" INTEGER PRIMARY KEY AUTOINCREMENT,
            "environment" TEXT NOT NULL,
            "command" TEXT NOT NULL,
            "planID" TEXT,
            "startedAt" DATETIME NOT NULL,
            "finishedAt" DATETIME,
            "result" TEXT NOT NULL CHECK ("result" IN ('running', 'succeeded', 'failed', 'interrupted')),
            "message" TEXT NOT NULL,
            "holder" TEXT NOT NULL
          );
          CREATE INDEX "run_on_environment" ON "run"("environment", "id");
          CREATE TABLE "journal" (
            "id" INTEGER PRIMARY KEY AUTOINCREMENT,
            "runID" INTEGER NOT NULL REFERENCES "run"("id") ON DELETE CASCADE,
            "stepID" INTEGER NOT NULL,
            "kind" TEXT NOT NULL,
            "argvJSON" TEXT NOT NULL,
            "startedAt" DATETIME NOT NULL,
            "finishedAt" DATETIME,
            "exitCode" INTEGER,
            "outputTail" TEXT NOT NULL,
            "durationSeconds" REAL,
            "status" TEXT NOT NULL CHECK ("status" IN ('started', 'succeeded', 'failed', 'interrupted'))
          );
          CREATE INDEX "journal_on_runID" ON "journal"("runID", "id");
          CREATE TABLE "lock" (
            "environment" TEXT NOT NULL PRIMARY KEY,
            "lockID" TEXT NOT NULL UNIQUE,
            "host" TEXT NOT NULL,
            "pid" INTEGER NOT NULL,
            "user" TEXT NOT NULL,
            "command" TEXT NOT NULL,
            "startedAt" DATETIME NOT NULL
          );
          CREATE TABLE "driftReport" (
            "id" INTEGER PRIMARY KEY AUTOINCREMENT,
            "environment" TEXT NOT NULL,
            "createdAt" DATETIME NOT NULL,
            "status" TEXT NOT NULL,
            "reportJSON" TEXT NOT NULL
          );
          CREATE INDEX "driftReport_on_environment" ON "driftReport"("environment", "id");
          """)
    }
    // Layer 4. Revisions written before it count as validated: hk then ran validate as the
    // last step of every apply that changed the cloud.
    migrator.registerMigration("v2: revision.validated (layer 4: kops validate passed since the cloud last changed)") { db in
      try db.execute(
        sql: """
          ALTER TABLE "revision" ADD COLUMN "validated" BOOLEAN NOT NULL DEFAULT 1 CHECK ("validated" IN (0, 1));
          """)
    }
    // The git commit of the desired files a revision was applied from (issue 16).
    migrator.registerMigration("v3: revision.gitCommit (the git commit of the desired files)") { db in
      try db.execute(sql: #"ALTER TABLE "revision" ADD COLUMN "gitCommit" TEXT;"#)
    }
    // Leases (DESIGN.md §8): an expiry, a fencing generation and the holder's CI run. A lock
    // left by an older hk has no expiry and counts as expiring a default TTL after it started.
    migrator.registerMigration("v4: lock leases (expiresAt, generation, ciRunURL; leaseGeneration)") { db in
      try db.execute(
        sql: """
          ALTER TABLE "lock" ADD COLUMN "expiresAt" DATETIME;
          ALTER TABLE "lock" ADD COLUMN "generation" INTEGER NOT NULL DEFAULT 0;
          ALTER TABLE "lock" ADD COLUMN "ciRunURL" TEXT;
          CREATE TABLE "leaseGeneration" (
            "environment" TEXT NOT NULL PRIMARY KEY,
            "generation" INTEGER NOT NULL
          );
          """)
    }
    // The kops version that last ran `update --yes`: a different kops rewrites every launch
    // template, so a kopsVersion edit is a planned upgrade (DESIGN.md §5). Revisions written
    // before it take the version recorded with them where the cloud was updated.
    migrator.registerMigration("v5: revision.updatedByKops (the kops version that last ran update --yes)") { db in
      try db.execute(
        sql: """
          ALTER TABLE "revision" ADD COLUMN "updatedByKops" TEXT;
          UPDATE "revision" SET "updatedByKops" = "kopsVersion" WHERE "cloudUpdated" = 1;
          """)
    }
    // The environment's settings with each revision (issue 17): a plan shows their changes.
    // Revisions written before it have none (NULL), and plan nothing for settings.
    migrator.registerMigration("v6: revision.settings (stateStore, aws, kopsPath, gateway as applied; JSON)") { db in
      try db.execute(sql: #"ALTER TABLE "revision" ADD COLUMN "settings" TEXT"#)
    }
    return migrator
  }()
}

// MARK: - Records: one per table

/// A row of `environment`: the current serial and lineage of one environment.
struct EnvironmentRow: Codable, FetchableRecord, PersistableRecord {
  static let databaseTableName = "environment"
  var name: String
  var lineage: String
  var currentSerial: Int64
  var createdAt: Date
}

/// A row of `revision`: one recorded revision (full history; the current one is amended while
/// its run goes on).
///
/// Its recorded columns are the properties of ``Model/RecordedStateDraft``, by name, read and
/// written through the draft's own `Codable` conformance (arrays and the settings as JSON): a
/// new recorded field needs a migration adding its column here, nothing else.
struct RevisionRow: Codable, FetchableRecord, PersistableRecord {
  static let databaseTableName = "revision"
  var draft: RecordedStateDraft
  var serial: Int64
  var lineage: String
  var createdAt: Date
  /// `user@host`.
  var createdBy: String
  var command: String
  var planID: String?
  var note: String

  var environment: String { draft.environment }
  var state: RecordedState { RecordedState(serial: serial, lineage: lineage, draft: draft) }
  var summary: RevisionSummary {
    RevisionSummary(state, createdAt: createdAt, createdBy: createdBy, command: command, note: note, planID: planID)
  }

}

extension RevisionRow {
  /// The columns beside the draft's.
  private enum CodingKeys: String, CodingKey {
    case serial, lineage, createdAt, createdBy, command, planID, note
  }

  init(from decoder: any Decoder) throws {
    draft = try RecordedStateDraft(from: decoder)
    let row = try decoder.container(keyedBy: CodingKeys.self)
    serial = try row.decode(Int64.self, forKey: .serial)
    lineage = try row.decode(String.self, forKey: .lineage)
    createdAt = try row.decode(Date.self, forKey: .createdAt)
    createdBy = try row.decode(String.self, forKey: .createdBy)
    command = try row.decode(String.self, forKey: .command)
    planID = try row.decodeIfPresent(String.self, forKey: .planID)
    note = try row.decode(String.self, forKey: .note)
  }

  func encode(to encoder: any Encoder) throws {
    try draft.encode(to: encoder)
    var row = encoder.container(keyedBy: CodingKeys.self)
    try row.encode(serial, forKey: .serial)
    try row.encode(lineage, forKey: .lineage)
    try row.encode(createdAt, forKey: .createdAt)
    try row.encode(createdBy, forKey: .createdBy)
    try row.encode(command, forKey: .command)
    try row.encodeIfPresent(planID, forKey: .planID)
    try row.encode(note, forKey: .note)
  }
}

/// A row of `plan`: a saved plan and what it is bound to.
struct PlanRow: Codable, FetchableRecord, PersistableRecord {
  static let databaseTableName = "plan"
  var id: String
  var createdAt: Date
  /// A JSON array of environment names.
  var environmentsJSON: String
  var planJSON: String
  /// A JSON array of ``PlanBinding``.
  var bindingJSON: String
}

/// A row of `run`.
struct RunRow: Codable, FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "run"
  var id: Int64?
  var environment: String
  var command: String
  var planID: String?
  var startedAt: Date
  var finishedAt: Date?
  var result: String
  var message: String
  var holder: String

  mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}

/// A row of `journal`: one step of one run.
struct JournalRow: Codable, FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "journal"
  var id: Int64?
  var runID: Int64
  var stepID: Int
  var kind: String
  /// A JSON array of strings, redacted by the caller.
  var argvJSON: String
  var startedAt: Date
  var finishedAt: Date?
  var exitCode: Int32?
  var outputTail: String
  var durationSeconds: Double?
  var status: String

  mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}

/// A row of `lock`: at most one per environment.
struct LockRow: Codable, FetchableRecord, PersistableRecord {
  static let databaseTableName = "lock"
  var environment: String
  var lockID: String
  var host: String
  var pid: Int32
  var user: String
  var command: String
  var startedAt: Date
  var expiresAt: Date?
  var generation: Int64
  var ciRunURL: String?
}

/// A row of `driftReport`.
struct DriftReportRow: Codable, FetchableRecord, MutablePersistableRecord {
  static let databaseTableName = "driftReport"
  var id: Int64?
  var environment: String
  var createdAt: Date
  var status: String
  var reportJSON: String

  mutating func didInsert(_ inserted: InsertionSuccess) {
    id = inserted.rowID
  }
}
