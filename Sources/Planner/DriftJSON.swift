import Model

/// The drift report's `format_version` "1" JSON (DESIGN.md §6, a contract: additive changes
/// only), and the decoding of one stored environment entry (for "new since the last report"
/// and `hk drift --history`).
///
/// Contract keys of an environment, in this order: `name`, `status`, `drift` (`path`,
/// `recorded`, `live`, `new`), `pending` (`category`, `path`), `igw` (`expected`, `actual`,
/// `finding`) or null, `ignored` (`path`, `reason`, `until`, `expired`), `error`. Additive:
/// `cluster`, `recorded_serial`, `recorded_lineage`, `notes`, `pending[].action/note`,
/// `igw.id/vpc/attached_elsewhere/new`, `ignored[].rule/recorded/live`, and the top-level
/// `summary`.
public enum DriftJSON {
  /// The whole report.
  public static func encode(_ report: DriftReport) -> JSONValue {
    .obj([
      ("format_version", .string(DriftReport.formatVersion)),
      ("environments", .array(report.environments.map(encode))),
      (
        "summary",
        .obj([
          ("environments", .int(Int64(report.environments.count))),
          ("drifted", .int(Int64(report.count(.drifted)))), ("pending", .int(Int64(report.count(.pending)))),
          ("in_sync", .int(Int64(report.count(.inSync)))), ("errors", .int(Int64(report.count(.error)))),
        ])
      ),
    ])
  }

  /// The report as pretty JSON with a trailing newline.
  public static func render(_ report: DriftReport) -> String { encode(report).serialized(pretty: true) + "\n" }

  /// One environment's entry (also what the store keeps per report).
  public static func encode(_ e: EnvironmentDrift) -> JSONValue {
    .obj([
      ("name", .string(e.name)),
      ("status", .string(e.status.rawValue)),
      (
        "drift",
        .array(
          e.drift.map { d in
            .obj([("path", .string(d.path)), ("recorded", d.recorded ?? .null), ("live", d.live ?? .null), ("new", .bool(d.isNew))])
          })
      ),
      (
        "pending",
        .array(
          e.pending.map { p in
            var m: [(String, JSONValue)] = [("category", .string(p.category)), ("path", .string(p.path))]
            if let a = p.action { m.append(("action", .string(a))) }
            if let n = p.note { m.append(("note", .string(n))) }
            return .obj(m)
          })
      ),
      ("igw", e.gateway.map(encode) ?? .null),
      (
        "ignored",
        .array(
          e.ignored.map { i in
            .obj([
              ("path", .string(i.path)), ("reason", .string(i.reason)), ("until", i.until.map(JSONValue.string) ?? .null),
              ("expired", .bool(i.expired)), ("rule", .string(i.rule)), ("recorded", i.recorded ?? .null),
              ("live", i.live ?? .null),
            ])
          })
      ),
      ("error", e.error.map(JSONValue.string) ?? .null),
      ("cluster", e.cluster.map(JSONValue.string) ?? .null),
      ("recorded_serial", e.recorded.map { .int($0.serial) } ?? .null),
      ("recorded_lineage", e.recorded.map { .string($0.lineage) } ?? .null),
      ("notes", .array(e.notes.map(JSONValue.string))),
    ])
  }

  static func encode(_ g: GatewayCheck) -> JSONValue {
    .obj([
      ("expected", .string(g.expected.rawValue)), ("actual", .string(g.actual.rawValue)),
      ("finding", g.finding.map(JSONValue.string) ?? .null), ("id", .string(g.id)),
      ("vpc", g.vpc.map(JSONValue.string) ?? .null),
      ("attached_elsewhere", .array(g.attachedElsewhere.map(JSONValue.string))), ("new", .bool(g.isNew)),
    ])
  }

  /// A stored entry that cannot be read.
  public struct DecodeError: HKError, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public var errorDescription: String? { message }
    public var nextStep: String { NextStep.of(message, otherwise: "run 'hk drift' again to store a new report") }
  }

  /// Reads one environment entry written by ``encode(_:)-(EnvironmentDrift)`` (older hk
  /// versions' entries included: unknown keys are ignored, missing ones are empty).
  public static func decodeEnvironment(_ text: String) throws(DecodeError) -> EnvironmentDrift {
    let json: JSONValue
    do { json = try JSONValue.parse(text) } catch {
      throw DecodeError(message: "stored drift report is not JSON (\(error))")
    }
    guard let name = json["name"]?.stringValue else { throw DecodeError(message: "stored drift report has no 'name'") }
    func value(_ v: JSONValue?) -> JSONValue? { v.flatMap { $0 == .null ? nil : $0 } }
    var e = EnvironmentDrift(name: name, cluster: json["cluster"]?.stringValue)
    if let serial = json["recorded_serial"]?.intValue, let lineage = json["recorded_lineage"]?.stringValue {
      e.recorded = PriorState(serial: serial, lineage: lineage)
    }
    e.drift = (json["drift"]?.arrayValue ?? []).compactMap { d in
      guard let path = d["path"]?.stringValue else { return nil }
      return DriftItem(
        path: path, recorded: value(d["recorded"]), live: value(d["live"]), isNew: d["new"]?.boolValue ?? false,
        object: ObjectAddress(path: path))
    }
    e.pending = (json["pending"]?.arrayValue ?? []).compactMap { p in
      guard let category = p["category"]?.stringValue, let path = p["path"]?.stringValue else { return nil }
      return PendingItem(category: category, action: p["action"]?.stringValue, path: path, note: p["note"]?.stringValue)
    }
    if let g = value(json["igw"]), let expected = g["expected"]?.stringValue.flatMap(GatewayState.init(rawValue:)),
      let actual = g["actual"]?.stringValue.flatMap(GatewayState.init(rawValue:))
    {
      e.gateway = GatewayCheck(
        id: g["id"]?.stringValue ?? "", vpc: g["vpc"]?.stringValue, expected: expected, actual: actual,
        attachedElsewhere: (g["attached_elsewhere"]?.arrayValue ?? []).compactMap(\.stringValue), isNew: g["new"]?.boolValue ?? false)
    }
    e.ignored = (json["ignored"]?.arrayValue ?? []).compactMap { i in
      guard let path = i["path"]?.stringValue else { return nil }
      return IgnoredField(
        path: path, rule: i["rule"]?.stringValue ?? path, reason: i["reason"]?.stringValue ?? "", until: i["until"]?.stringValue,
        expired: i["expired"]?.boolValue ?? false, recorded: value(i["recorded"]), live: value(i["live"]))
    }
    e.error = json["error"]?.stringValue
    e.notes = (json["notes"]?.arrayValue ?? []).compactMap(\.stringValue)
    return e
  }
}
