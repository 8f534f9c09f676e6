import Model

/// Renders plans for people: a terminal (`text`, optionally coloured) or a pull-request comment
/// (`markdown`, split into parts under GitHub's comment limit). Pure functions of the plan.
public struct PlanRenderer: Sendable {
  public var color: Bool
  public init(color: Bool = false) { self.color = color }

  // MARK: Text

  public func text(_ plan: Plan) -> String {
    var out = ""
    for e in plan.environments { out += text(e) }
    out += failures(plan)
    out += summary(plan) + "\n" + digestLine(plan) + "\n"
    return out
  }

  /// The environments that could not be planned, each with its errors (redacted), for the end
  /// of the text output (before the summary).
  public func failures(_ plan: Plan) -> String {
    var out = ""
    for f in plan.failed {
      let n = f.diagnostics.count
      out += bold("Environment \(f.name)") + ": " + paint("not planned", .red) + " (\(Self.count(n, "error")))\n"
      for d in f.diagnostics { out += "  " + Redaction.redact(text: d.description) + "\n" }
      out += "\n"
    }
    return out
  }

  /// `1 change`, `2 changes`.
  static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }

  /// The line under a plan that names its ``PlanDigest`` (what `apply --expect-digest` takes).
  public func digestLine(_ plan: Plan) -> String { digestLine(digest: PlanDigest.digest(plan)) }

  /// The line for a digest already computed (``PlanDigest/combine(_:)``).
  public func digestLine(digest: String) -> String { "plan_digest: " + digest }

  /// One environment's section of ``text(_:)`` (sections are independent, so a caller with many
  /// environments may render them in parallel and join them before the summary).
  public func text(_ e: EnvironmentPlan) -> String {
    String(decoding: textUTF8(e), as: UTF8.self)
  }

  /// ``text(_:)`` of `e` as its UTF-8 bytes (valid UTF-8: `String`s' bytes, cut at line feeds
  /// only), for a caller that writes them out without making a `String` first.
  public func textUTF8(_ e: EnvironmentPlan) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(16_384)
    appendText(e, to: &out)
    return out
  }

  /// ``textUTF8(_:)`` and ``PlanDigest/environmentDigest(_:)`` of `e` at once: both show the
  /// steps' commands redacted, so each argument is redacted once for the two.
  public func textUTF8AndDigest(_ e: EnvironmentPlan) -> (text: [UInt8], digest: String) {
    let commands = e.steps.map { $0.command.map(Redaction.redact(text:)) }
    var out: [UInt8] = []
    out.reserveCapacity(16_384)
    appendText(e, redactedCommands: commands, to: &out)
    // The section lives until the whole plan is written: keep it at its size (the working
    // buffer's 16 KiB, or its doubled capacity, held two to three times the text), and let the
    // next environment's rendering reuse the working buffer's memory. Fewer fresh pages: each
    // costs a page fault, and more where the host takes freed memory back (PERFORMANCE.md).
    let text = out.withUnsafeBufferPointer { src in
      [UInt8](unsafeUninitializedCapacity: src.count) { dst, n in n = dst.initialize(fromContentsOf: src) }
    }
    return (text, PlanDigest.environmentDigest(e, redactedCommands: commands))
  }

  /// ``text(_:)`` of `e` as UTF-8, appended to `out`. `redactedCommands`, when given, are the
  /// steps' commands already redacted (``Redaction/redact(text:)`` of each argument).
  func appendText(_ e: EnvironmentPlan, redactedCommands: [[String]]? = nil, to out: inout [UInt8]) {
    out.append(utf8: header(e))
    if !e.hasChanges && e.owed.isEmpty {
      out.append(utf8: "  No changes.\n\n")
      return
    }
    for owed in e.owed { out.append(utf8: "  ! " + OutputEscaping.text(Self.owedLine(owed)) + "\n") }
    if e.changes.contains(where: { $0.category == .settings }) {
      out.append(utf8: "  " + paint("! " + Self.settingsBanner, .red) + "\n")
    }
    // The YAML of one created or deleted object at a time (its buffer is reused). Changes are
    // read in place: a copy of each per category retained and released all its fields.
    var yaml: [UInt8] = []
    e.changes.withUnsafeBufferPointer { changes in
      for category in ChangeCategory.allCases {
        var headed = false
        for i in changes.indices where changes[i].category == category {
          if !headed {
            out.append(utf8: "  " + bold(category.rawValue) + "\n")
            headed = true
          }
          appendChangeLines(changes[i], to: &out, yaml: &yaml)
        }
      }
    }
    if !e.steps.isEmpty {
      out.append(utf8: "  " + bold("steps") + "\n")
      for (n, s) in e.steps.enumerated() {
        out.append(utf8: "    \(s.id). ")
        PlanRenderer.appendShell(s.command, redacted: redactedCommands?[n], to: &out)
        if s.disruptive { out.append(utf8: "  " + paint("(disruptive)", .yellow)) }
        out.append(0x0A)
      }
      if let line = kopsEnvironmentLine(e) { out.append(utf8: "    " + line + "\n") }
    }
    out.append(0x0A)
  }

  /// `kops runs with AWS_DEFAULT_REGION=… AWS_PROFILE=… AWS_REGION=…` when a step runs kops.
  func kopsEnvironmentLine(_ e: EnvironmentPlan) -> String? {
    guard !e.kopsEnvironment.isEmpty, e.steps.contains(where: { $0.kind != .igwAttach && $0.kind != .igwDetach }) else { return nil }
    return "kops runs with " + PlanRenderer.shell(e.kopsEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
  }

  func header(_ e: EnvironmentPlan) -> String {
    let prior = e.prior.map { "recorded serial \($0.serial), lineage \($0.lineage.prefix(8))" } ?? "nothing recorded yet"
    return bold("Environment \(OutputEscaping.text(e.name))") + " (\(OutputEscaping.text(e.cluster)); \(prior))\n"
  }

  func changeLine(_ c: Change) -> String {
    let (sym, col): (String, Paint) =
      switch c.action {
      case .create: ("+", .green)
      case .delete: ("-", .red)
      case .update: ("~", .yellow)
      }
    var line = paint(sym, col) + " " + OutputEscaping.text(c.path)
    switch c.action {
    case .create: line += " = " + short(c.after)
    case .delete: line += " (was " + short(c.before) + ")"
    case .update: line += ": " + short(c.before) + " → " + short(c.after)
    }
    if c.widening { line += "  " + paint("[widens IAM]", .red) }
    if !c.rolls.isEmpty { line += "  [rolls \(OutputEscaping.text(c.rolls.joined(separator: ", ")))]" }
    return line
  }

  /// A one-line value: scalars as JSON, collections compact and cut at 160 characters.
  ///
  /// Only the start of a large collection is serialized (a created cluster is kilobytes of
  /// JSON, of which 157 characters are shown); the result is the same as cutting
  /// ``JSONValue/serialized(pretty:)``.
  func short(_ v: JSONValue?) -> String {
    guard let v else { return "null" }
    var s = ""
    // Most values are ASCII: a prefix of a little over 160 bytes is enough. A prefix that
    // stopped early but holds 160 characters or fewer (multi-byte text) is made again with
    // room for 160 four-byte characters, and failing that (unusually long grapheme clusters)
    // the full text is cut as before.
    var complete = Self.appendCompact(v, to: &s, byteLimit: Self.shortByteLimit)
    if !complete && s.count <= 160 {
      s = ""
      complete = Self.appendCompact(v, to: &s, byteLimit: Self.shortByteLimitWide)
      if !complete && s.count <= 160 { s = v.serialized() }
    }
    return OutputEscaping.text(s.count > 160 ? String(s.prefix(157)) + "…" : s)
  }

  /// UTF-8 bytes of compact JSON ``short(_:)`` writes before it stops: over 160 characters
  /// when the text is ASCII.
  static let shortByteLimit = 192
  /// The second try: at least 160 characters of up to four bytes each.
  static let shortByteLimitWide = 640

  /// Appends the compact JSON of `v`, exactly as ``JSONValue/serialized(pretty:)`` writes it,
  /// stopping between two members or items once `out` holds more than `byteLimit` UTF-8 bytes.
  ///
  /// - Returns: Whether all of `v` was written (else `out` ends with a prefix of it).
  static func appendCompact(_ v: JSONValue, to out: inout String, byteLimit: Int) -> Bool {
    switch v {
    case .array(let items) where !items.isEmpty:
      out += "["
      for (i, item) in items.enumerated() {
        if out.utf8.count > byteLimit { return false }
        if i > 0 { out += "," }
        if !appendCompact(item, to: &out, byteLimit: byteLimit) { return false }
      }
      out += "]"
    case .object(let members) where !members.isEmpty:
      out += "{"
      for (i, m) in members.enumerated() {
        if out.utf8.count > byteLimit { return false }
        if i > 0 { out += "," }
        JSONValue.quote(m.key, into: &out)
        out += ":"
        if !appendCompact(m.value, to: &out, byteLimit: byteLimit) { return false }
      }
      out += "}"
    default:
      out += v.serialized()
    }
    return true
  }

  public func summary(_ plan: Plan) -> String { summary(plan, name: OutputEscaping.text) }

  /// The summary line with instance group names written by `name` (escaped for the output).
  func summary(_ plan: Plan, name: (String) -> String) -> String {
    let envs = plan.environments.count
    let changed = plan.environments.filter { $0.hasChanges }
    var failed = ""
    if !plan.failed.isEmpty {
      let n = plan.failed.count
      failed =
        " \(Self.count(n, "environment")) \(n == 1 ? "has" : "have") errors and \(n == 1 ? "was" : "were") not planned: "
        + plan.failed.map(\.name).joined(separator: ", ") + "."
    }
    if changed.isEmpty {
      if !plan.failed.isEmpty {
        return envs == 0
          ? "No plan." + failed
          : "No changes in the \(Self.count(envs, "environment")) planned." + failed
      }
      return envs == 1
        ? "No changes. The environment matches its recorded state."
        : "No changes. All \(envs) environments match their recorded state."
    }
    let rolls = Array(Set(changed.flatMap(\.rolls))).sorted()
    let widening = changed.reduce(0) { $0 + $1.wideningCount }
    var details = ["\(plan.totalSteps) step\(plan.totalSteps == 1 ? "" : "s")"]
    if !rolls.isEmpty { details.append("rolls " + rolls.map(name).joined(separator: ", ")) }
    if widening > 0 { details.append("\(widening) IAM widening") }
    let n = plan.totalChanges
    return
      "Plan: \(n) change\(n == 1 ? "" : "s") in \(changed.count) environment\(changed.count == 1 ? "" : "s") (\(details.joined(separator: "; ")))."
      + failed
  }

  func escape(_ s: String) -> String { OutputEscaping.markdown(s) }

  /// What a reviewer is told when `environment.yaml` settings change.
  static let settingsBanner =
    "settings in environment.yaml changed: review before merging (where kops keeps the cluster, which AWS account and region, "
    + "which kops binary, the gateway); apply refuses a stateStore move without --allow-state-store-change"

  // MARK: Helpers

  enum Paint: String {
    case red = "31"
    case green = "32"
    case yellow = "33"
  }
  func paint(_ s: String, _ p: Paint) -> String { color ? "\u{1B}[\(p.rawValue)m\(s)\u{1B}[0m" : s }
  func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
}

extension PlanRenderer {
  /// Quotes argv for display like a POSIX shell would need it (display only: hk never runs a shell).
  public static func shell(_ argv: [String]) -> String {
    var out: [UInt8] = []
    appendShell(argv, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// ``shell(_:)`` as UTF-8, appended to `out`: each argument redacted, quoted unless it is
  /// made of the characters below only, and escaped for the output.
  /// `redacted`, when given, is `argv` with each argument redacted.
  static func appendShell(_ argv: [String], redacted: [String]? = nil, to out: inout [UInt8]) {
    var first = true
    for (n, a) in argv.enumerated() {
      if !first { out.append(0x20) }
      first = false
      if a.isEmpty {
        out.append(0x27)
        out.append(0x27)
        continue
      }
      let r = redacted?[n] ?? Redaction.redact(text: a)
      // Nearly every argument: made of the set below, and its redaction printable ASCII not
      // starting a workflow command, which ``OutputEscaping/text(_:)`` leaves as it is: its
      // bytes are copied as they are.
      let copied = a.utf8.withContiguousStorageIfAvailable { ab in
        guard allShellSafe(ab) else { return false }
        return r.utf8.withContiguousStorageIfAvailable { rb in
          guard OutputEscaping.isLeftAsIs(rb) else { return false }
          out.append(contentsOf: rb)
          return true
        } ?? false
      }
      if copied == true { continue }
      // Any byte at or above 0x80 belongs to a scalar outside the set.
      let safe = a.utf8.allSatisfy(isShellSafe)
      let shown = safe ? r : "'" + r.replacingAll("'", "'\\''") + "'"
      out.append(utf8: OutputEscaping.text(shown))
    }
  }

  /// Whether every byte of `b` is ``isShellSafe(_:)``.
  static func allShellSafe(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    for c in b where !isShellSafe(c) { return false }
    return true
  }

  /// `a`-`z`, `A`-`Z`, `0`-`9` and `-_./=:,@%+<>`.
  @inline(__always)
  static func isShellSafe(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
      UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: ":"),
      UInt8(ascii: ","), UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "<"), UInt8(ascii: ">"):
      true
    default: false
    }
  }
}

extension [UInt8] {
  /// Appends the UTF-8 of `s`.
  @inline(__always)
  mutating func append(utf8 s: String) { append(contentsOf: s.utf8) }
}
