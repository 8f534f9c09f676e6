import Model

/// The `plan_digest` (DESIGN.md §3–§4): what a reviewer approved, as one SHA-256.
///
/// It covers, per environment, the name, the recorded revision, the desired files' digest, the
/// changes and the steps, exactly as the plan's JSON writes them (``PlanJSON/writeCanonical(_:to:)``
/// spells the covered members of ``PlanJSON/encode(_:)-(EnvironmentPlan)`` without building
/// them, and a test holds the two equal): each environment's covered members
/// are hashed as compact JSON, and the plan's digest hashes those in plan order (so a plan of
/// one environment has that environment's digest). Plans name executables `kops` and
/// `aws` and manifest files `<scratch>/NAME.yaml`, so the same plan made on a laptop and on a CI
/// runner has the same digest. Owed notes and summaries are derived and left out.
public enum PlanDigest {
  /// The members of an environment's JSON that the digest covers, in this order.
  static let coveredKeys = ["name", "prior", "desired_digest", "changes", "steps", "kops_environment"]

  /// The digest of a whole plan.
  public static func digest(_ plan: Plan) -> String {
    combine(plan.environments.map(environmentDigest))
  }

  /// The digest of one environment's part: equal to the digest of a plan of that environment
  /// alone (`hk plan ENV`), so a pipeline may apply environment by environment.
  public static func digest(_ e: EnvironmentPlan) -> String {
    combine([environmentDigest(e)])
  }

  /// The digest of environments as a plan file holds them (the entries of its `environments`).
  public static func digest(environmentEntries: [JSONValue]) -> String {
    combine(environmentEntries.map { canonical($0).compactSHA256() })
  }

  /// The hash of one environment's covered members (the costly part: callers with many
  /// environments may compute these in parallel, then ``combine(_:)`` them).
  public static func environmentDigest(_ e: EnvironmentPlan) -> String {
    CompactJSONWriter.sha256 { PlanJSON.writeCanonical(e, to: &$0) }
  }

  /// ``environmentDigest(_:)`` with the steps' commands already redacted (one array of
  /// arguments per step, each ``Redaction/redact(text:)`` of the step's).
  static func environmentDigest(_ e: EnvironmentPlan, redactedCommands: [[String]]) -> String {
    CompactJSONWriter.sha256 { PlanJSON.writeCanonical(e, redactedCommands: redactedCommands, to: &$0) }
  }

  /// A plan's digest from its environments' ``environmentDigest(_:)``, in plan order.
  public static func combine(_ environmentDigests: [String]) -> String {
    SHA256.digest("hk plan_digest 1\n" + environmentDigests.joined(separator: "\n"))
  }

  /// The covered members of one environment's part of a plan.
  public static func canonical(_ e: EnvironmentPlan) -> JSONValue { canonical(PlanJSON.encode(e)) }

  /// The covered members of one environment entry, in canonical order (absent ones as null).
  public static func canonical(_ entry: JSONValue) -> JSONValue {
    .obj(coveredKeys.map { ($0, entry[$0] ?? .null) })
  }

  /// Whether `s` looks like a digest hk prints (`sha256:` and 64 lowercase hex digits).
  public static func isWellFormed(_ s: String) -> Bool {
    guard s.hasPrefix("sha256:") else { return false }
    let hex = s.dropFirst("sha256:".count)
    return hex.count == 64 && hex.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
  }
}
