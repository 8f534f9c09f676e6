import Foundation
import GRDB
import Model

/// The reports of `hk drift`, per environment.
extension SQLiteStateStore {
  public func saveDriftReport(environment: String, status: String, reportJSON: String) throws {
    try write { db in
      var row = DriftReportRow(
        id: nil, environment: environment, createdAt: Date(), status: status, reportJSON: reportJSON)
      try row.insert(db)
    }
  }

  public func driftReports(_ environment: String, limit: Int) throws -> [DriftReportRecord] {
    try newest(DriftReportRow.self, of: environment, limit: limit).map(Self.driftRecord)
  }

  static func driftRecord(_ row: DriftReportRow) -> DriftReportRecord {
    DriftReportRecord(
      id: row.id ?? 0, environment: row.environment, createdAt: row.createdAt, status: row.status, reportJSON: row.reportJSON)
  }
}
