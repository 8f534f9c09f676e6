import Foundation
import GRDB
import Model

/// Saved plans (`hk plan --out`, `hk apply --plan`).
extension SQLiteStateStore {
  public func savePlan(id: String, planJSON: String, bindings: [PlanBinding]) throws {
    let environments = try Self.json(bindings.map(\.environment))
    let bindingJSON = try Self.json(bindings)
    try write { db in
      guard try !PlanRow.exists(db, key: id) else { throw StoreError.planExists(id: id) }
      try PlanRow(
        id: id, createdAt: Date(), environmentsJSON: environments, planJSON: planJSON, bindingJSON: bindingJSON
      ).insert(db)
    }
  }

  public func savedPlan(id: String) throws -> SavedPlan? {
    try read { db in try PlanRow.fetchOne(db, key: id) }.map(savedPlan)
  }

  func savedPlan(_ row: PlanRow) throws -> SavedPlan {
    SavedPlan(
      id: row.id, createdAt: row.createdAt,
      environments: try decode([String].self, row.environmentsJSON, what: "plan \(row.id) environments"),
      planJSON: row.planJSON, bindings: try decode([PlanBinding].self, row.bindingJSON, what: "plan \(row.id) bindings"))
  }
}
