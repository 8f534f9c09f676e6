import Model

/// The plan's `format_version` "1" JSON (DESIGN.md §4, a contract: additive changes only), and
/// its decoding for `hk apply --plan FILE`.
public enum PlanJSON {
  public static func encode(_ plan: Plan) -> JSONValue {
    let digests = plan.environments.map(PlanDigest.environmentDigest)
    return .obj([
      ("format_version", .string(Plan.formatVersion)),
      ("environments", .array(zip(plan.environments, digests).map { entry($0, digest: $1) })),
      ("errors", .array(plan.failed.map(encode))),
      (
        "summary",
        .obj([
          ("changes", .int(Int64(plan.totalChanges))), ("steps", .int(Int64(plan.totalSteps))),
          ("environments_with_changes", .int(Int64(plan.environments.filter(\.hasChanges).count))),
          ("environments_with_errors", .int(Int64(plan.failed.count))),
        ])
      ),
      ("plan_digest", .string(PlanDigest.combine(digests))),
    ])
  }

  /// An environment that could not be planned: `{"name", "status": "error", "diagnostics": […]}`.
  static func encode(_ f: FailedEnvironment) -> JSONValue {
    .obj([
      ("name", .string(f.name)), ("status", .string("error")),
      ("diagnostics", .array(f.diagnostics.map(encode))),
    ])
  }

  /// `{"severity", "message", "file", "line", "column", "rule"}` (message redacted; position
  /// and rule null when unknown).
  static func encode(_ d: Diagnostic) -> JSONValue {
    .obj([
      ("severity", .string(d.severity.rawValue)), ("message", .string(Redaction.redact(text: d.message))),
      ("file", d.location.map { .string($0.file) } ?? .null), ("line", d.location.map { .int(Int64($0.line)) } ?? .null),
      ("column", d.location.map { .int(Int64($0.column)) } ?? .null), ("rule", d.rule.map(JSONValue.string) ?? .null),
    ])
  }

  public static func render(_ plan: Plan) -> String { encode(plan).serialized(pretty: true) + "\n" }

  static func encode(_ e: EnvironmentPlan) -> JSONValue {
    .obj([
      ("name", .string(e.name)),
      ("cluster", .string(e.cluster)),
      ("prior", e.prior.map { .obj([("serial", .int($0.serial)), ("lineage", .string($0.lineage))]) } ?? .null),
      ("desired_digest", .string(e.desiredDigest)),
      ("changes", .array(e.changes.map(encode))),
      ("steps", .array(e.steps.map(encode))),
      ("owed", .array(e.owed.map { JSONValue.string(PlanRenderer.owedLine($0)) })),
      ("kops_environment", .obj(e.kopsEnvironment.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) })),
      (
        "summary",
        .obj([
          ("changes", .int(Int64(e.changes.count))), ("steps", .int(Int64(e.steps.count))),
          ("rolls", .array(e.rolls.map(JSONValue.string))), ("widening", .int(Int64(e.wideningCount))),
        ])
      ),
    ])
  }

  /// The compact JSON of ``PlanDigest/canonical(_:)-(EnvironmentPlan)`` (the members of
  /// ``encode(_:)-(EnvironmentPlan)`` the digest covers, in ``PlanDigest/coveredKeys`` order),
  /// written straight from `e` without building the entry: the digest of a thousand
  /// environments would otherwise build and free each one's JSON tree only to hash it.
  ///
  /// Must spell exactly what `encode` builds for these members: a member added there is added
  /// here too. `PlanDigestTests` compares the two on plans using every member and step field.
  /// `redactedCommands`, when given, are the steps' commands already redacted.
  static func writeCanonical(_ e: EnvironmentPlan, redactedCommands: [[String]]? = nil, to w: inout CompactJSONWriter) {
    w.raw("{\"name\":")
    w.string(e.name)
    w.raw(",\"prior\":")
    if let p = e.prior {
      w.raw("{\"serial\":")
      w.int(p.serial)
      w.raw(",\"lineage\":")
      w.string(p.lineage)
      w.raw("}")
    } else {
      w.raw("null")
    }
    w.raw(",\"desired_digest\":")
    w.string(e.desiredDigest)
    w.raw(",\"changes\":[")
    for (i, c) in e.changes.enumerated() {
      if i > 0 { w.raw(",") }
      w.raw("{\"category\":")
      w.string(c.category.rawValue)
      w.raw(",\"action\":")
      w.string(c.action.rawValue)
      w.raw(",\"path\":")
      w.string(c.path)
      w.raw(",\"before\":")
      w.write(c.before ?? .null)
      w.raw(",\"after\":")
      w.write(c.after ?? .null)
      w.raw(",\"rolls\":")
      writeStrings(c.rolls, to: &w)
      w.raw(",\"widening\":")
      w.bool(c.widening)
      w.raw("}")
    }
    w.raw("],\"steps\":[")
    for (i, s) in e.steps.enumerated() {
      if i > 0 { w.raw(",") }
      w.raw("{\"id\":")
      w.int(Int64(s.id))
      w.raw(",\"kind\":")
      w.string(s.kind.rawValue)
      w.raw(",\"command\":[")
      for (j, a) in (redactedCommands?[i] ?? s.command.map(Redaction.redact(text:))).enumerated() {
        if j > 0 { w.raw(",") }
        w.string(a)
      }
      w.raw("],\"disruptive\":")
      w.bool(s.disruptive)
      if let o = s.object?.stepObject {
        w.raw(",\"object\":")
        w.string(o)
      }
      if !s.instanceGroups.isEmpty {
        w.raw(",\"instance_groups\":")
        writeStrings(s.instanceGroups, to: &w)
      }
      w.raw("}")
    }
    w.raw("],\"kops_environment\":{")
    for (i, kv) in e.kopsEnvironment.sorted(by: { $0.key < $1.key }).enumerated() {
      if i > 0 { w.raw(",") }
      w.string(kv.key)
      w.raw(":")
      w.string(kv.value)
    }
    w.raw("}}")
  }

  /// `["a","b"]`.
  private static func writeStrings(_ strings: [String], to w: inout CompactJSONWriter) {
    w.raw("[")
    for (i, s) in strings.enumerated() {
      if i > 0 { w.raw(",") }
      w.string(s)
    }
    w.raw("]")
  }

  /// One environment's entry with its own `plan_digest` (that of a plan of it alone).
  static func entry(_ e: EnvironmentPlan, digest: String) -> JSONValue {
    let json = encode(e)
    guard case .object(var members) = json else { return json }
    members.append(.init("plan_digest", .string(PlanDigest.combine([digest]))))
    return .object(members)
  }

  static func encode(_ c: Change) -> JSONValue {
    .obj([
      ("category", .string(c.category.rawValue)), ("action", .string(c.action.rawValue)), ("path", .string(c.path)),
      ("before", c.before ?? .null), ("after", c.after ?? .null), ("rolls", .array(c.rolls.map(JSONValue.string))),
      ("widening", .bool(c.widening)),
    ])
  }

  static func encode(_ s: Step) -> JSONValue {
    var m: [(String, JSONValue)] = [
      ("id", .int(Int64(s.id))), ("kind", .string(s.kind.rawValue)),
      ("command", .array(s.command.map { JSONValue.string(Redaction.redact(text: $0)) })), ("disruptive", .bool(s.disruptive)),
    ]
    if let o = s.object?.stepObject { m.append(("object", .string(o))) }
    if !s.instanceGroups.isEmpty { m.append(("instance_groups", .array(s.instanceGroups.map(JSONValue.string)))) }
    return .obj(m)
  }

  /// A saved plan that cannot be read.
  public struct DecodeError: HKError, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public var errorDescription: String? { message }
    public var nextStep: String { NextStep.of(message, otherwise: "write the plan again with 'hk plan --out FILE'") }
  }

  /// A plan file as read back: the plan, each environment's entry as written (what its digest
  /// is computed over) and the `plan_digest` the file states.
  public struct Saved: Sendable {
    public var plan: Plan
    public var entries: [JSONValue]
    public var statedDigest: String?
    /// The digest of the file's content (equal to ``statedDigest`` unless the file was edited).
    public var contentDigest: String { PlanDigest.digest(environmentEntries: entries) }
  }

  /// Reads a plan written by `hk plan --out` (or `--format json`).
  public static func decode(_ text: String) throws(DecodeError) -> Plan { try decodeSaved(text).plan }

  /// Reads a plan file with what its digest is computed over.
  public static func decodeSaved(_ text: String) throws(DecodeError) -> Saved {
    let json: JSONValue
    do { json = try JSONValue.parse(text) } catch {
      throw DecodeError(message: "not a plan file (invalid JSON: \(error)); write one with 'hk plan --out FILE'")
    }
    guard json["format_version"]?.stringValue == Plan.formatVersion else {
      throw DecodeError(
        message:
          "plan format_version \(json["format_version"].map { $0.serialized() } ?? "missing") is not \"1\"; re-create it with this hk's 'hk plan --out FILE'"
      )
    }
    guard let envs = json["environments"]?.arrayValue else {
      throw DecodeError(message: "not a plan file (no 'environments' list); write one with 'hk plan --out FILE'")
    }
    var out: [EnvironmentPlan] = []
    for e in envs {
      guard let name = e["name"]?.stringValue, let cluster = e["cluster"]?.stringValue,
        let digest = e["desired_digest"]?.stringValue
      else { throw DecodeError(message: "plan environment entry lacks name, cluster or desired_digest") }
      var prior: PriorState? = nil
      if let p = e["prior"], p != .null {
        guard let serial = p["serial"]?.intValue, let lineage = p["lineage"]?.stringValue else {
          throw DecodeError(message: "plan environment \(name): 'prior' lacks serial or lineage")
        }
        prior = PriorState(serial: serial, lineage: lineage)
      }
      var changes: [Change] = []
      for c in e["changes"]?.arrayValue ?? [] {
        guard let cat = c["category"]?.stringValue.flatMap(ChangeCategory.init(rawValue:)),
          let action = c["action"]?.stringValue.flatMap(ChangeAction.init(rawValue:)), let path = c["path"]?.stringValue
        else { throw DecodeError(message: "plan environment \(name): a change lacks category, action or path") }
        let before = c["before"].flatMap { $0 == .null ? nil : $0 }
        changes.append(
          Change(
            category: cat, action: action, path: path, before: before, after: c["after"].flatMap { $0 == .null ? nil : $0 },
            rolls: (c["rolls"]?.arrayValue ?? []).compactMap(\.stringValue), widening: c["widening"]?.boolValue ?? false,
            object: ObjectAddress(path: path),
            // format "1" spells the gateway bracket as the gateway's change from "detached"
            gatewayBracket: cat == .igw && before == .string("detached")))
      }
      var steps: [Step] = []
      for s in e["steps"]?.arrayValue ?? [] {
        guard let id = s["id"]?.intValue, let kind = s["kind"]?.stringValue.flatMap(StepKind.init(rawValue:)),
          let command = s["command"]?.arrayValue?.compactMap(\.stringValue), !command.isEmpty
        else { throw DecodeError(message: "plan environment \(name): a step lacks id, a known kind or its command") }
        steps.append(
          Step(
            id: Int(id), kind: kind, command: command, disruptive: s["disruptive"]?.boolValue ?? false,
            object: s["object"]?.stringValue.flatMap(ObjectAddress.init(stepObject:)),
            instanceGroups: (s["instance_groups"]?.arrayValue ?? []).compactMap(\.stringValue)))
      }
      let owed = (e["owed"]?.arrayValue ?? []).compactMap(\.stringValue).map(OwedWork.note)
      var kopsEnvironment: [String: String] = [:]
      for m in e["kops_environment"]?.members ?? [] { if let v = m.value.stringValue { kopsEnvironment[m.key] = v } }
      out.append(
        EnvironmentPlan(
          name: name, cluster: cluster, prior: prior, desiredDigest: digest, changes: changes, steps: steps, owed: owed,
          kopsEnvironment: kopsEnvironment))
    }
    var failed: [FailedEnvironment] = []
    for f in json["errors"]?.arrayValue ?? [] {
      guard let name = f["name"]?.stringValue else { continue }
      let diagnostics = (f["diagnostics"]?.arrayValue ?? []).map { d in
        Diagnostic(
          d["severity"]?.stringValue.flatMap(Diagnostic.Severity.init(rawValue:)) ?? .error, d["message"]?.stringValue ?? "",
          at: d["file"]?.stringValue.map {
            Diagnostic.Location(file: $0, line: Int(d["line"]?.intValue ?? 0), column: Int(d["column"]?.intValue ?? 0))
          },
          rule: d["rule"]?.stringValue)
      }
      failed.append(FailedEnvironment(name: name, diagnostics: diagnostics))
    }
    let stated = json["plan_digest"]?.stringValue
    if json["plan_digest"] != nil, stated == nil { throw DecodeError(message: "plan_digest is not a string") }
    return Saved(plan: Plan(environments: out, failed: failed), entries: envs, statedDigest: stated)
  }
}
