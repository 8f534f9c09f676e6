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
    var out = header(e)
    if !e.hasChanges && e.owed.isEmpty {
      out += "  No changes.\n\n"
      return out
    }
    for owed in e.owed { out += "  ! " + OutputEscaping.text(Self.owedLine(owed)) + "\n" }
    if !e.settingsChanges.isEmpty { out += "  " + paint("! " + Self.settingsBanner, .red) + "\n" }
    for category in ChangeCategory.allCases {
      let cs = e.changes.filter { $0.category == category }
      if cs.isEmpty { continue }
      out += "  " + bold(category.rawValue) + "\n"
      for c in cs { appendChangeLines(c, to: &out) }
    }
    if !e.steps.isEmpty {
      out += "  " + bold("steps") + "\n"
      for s in e.steps {
        let flag = s.disruptive ? "  " + paint("(disruptive)", .yellow) : ""
        out += "    \(s.id). " + PlanRenderer.shell(s.command) + flag + "\n"
      }
      if let line = kopsEnvironmentLine(e) { out += "    " + line + "\n" }
    }
    out += "\n"
    return out
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

  // MARK: Markdown

  /// GitHub refuses comments over 65,536 characters; parts stay under this.
  public static let markdownPartLimit = MarkdownParts.limit

  /// The plan as one or more PR comments, each under ``markdownPartLimit`` characters.
  public func markdown(_ plan: Plan, partLimit: Int = PlanRenderer.markdownPartLimit) -> [String] {
    var head = "## hk plan\n\n" + PlanRenderer(color: false).summary(plan) { "`" + OutputEscaping.codeSpan($0) + "`" } + "\n\n"
    if !plan.failed.isEmpty {
      head += "**Errors** (not planned; fix before merging):\n\n"
      for f in plan.failed {
        head += "- `\(f.name)` (\(Self.count(f.diagnostics.count, "error"))):\n\n```\n"
        for d in f.diagnostics { head += OutputEscaping.fenced(Redaction.redact(text: d.description)) + "\n" }
        head += "```\n\n"
      }
    }
    let widening = plan.environments.flatMap { e in e.changes.filter(\.widening).map { (e.name, $0) } }
    if !widening.isEmpty {
      head += "**IAM widening** (review before merging):\n"
      for (env, c) in widening { head += "- `\(env)`: `\(OutputEscaping.codeSpan(c.path))`\n" }
      head += "\n"
    }
    let settings = plan.environments.flatMap { e in e.settingsChanges.map { (e.name, $0) } }
    if !settings.isEmpty {
      head += "**Settings changes** (\(Self.settingsBanner)):\n"
      for (env, c) in settings {
        head +=
          "- `\(env)`: `\(OutputEscaping.codeSpan(c.path))`: `\(OutputEscaping.codeSpan(short(c.before)))` → "
          + "`\(OutputEscaping.codeSpan(short(c.after)))`\n"
      }
      head += "\n"
    }
    let rolling = plan.environments.filter { !$0.rolls.isEmpty }
    if !rolling.isEmpty {
      head += "**Node rolls**:\n"
      for e in rolling {
        head += "- `\(e.name)`: " + e.rolls.map { "`\(OutputEscaping.codeSpan($0))`" }.joined(separator: ", ") + "\n"
      }
      head += "\n"
    }
    var sections: [String] = []
    for e in plan.environments {
      var s = "<details><summary><b>\(escape(e.name))</b> (\(escape(e.cluster))): "
      s += e.hasChanges ? "\(Self.count(e.changes.count, "change")), \(Self.count(e.steps.count, "step"))" : "no changes"
      s += "</summary>\n\n"
      for owed in e.owed { s += "> " + OutputEscaping.markdown(Self.owedLine(owed)) + "\n" }
      if !e.owed.isEmpty { s += "\n" }
      if !e.changes.isEmpty {
        s += "```diff\n"
        for category in ChangeCategory.allCases {
          for c in e.changes where c.category == category {
            for line in PlanRenderer(color: false).changeLines(c) { s += OutputEscaping.fenced(line) + "\n" }
          }
        }
        s += "```\n\n"
      }
      if !e.steps.isEmpty {
        s += "Steps:\n\n"
        for st in e.steps {
          s += "\(st.id). `" + OutputEscaping.codeSpan(PlanRenderer.shell(st.command)) + "`" + (st.disruptive ? " (disruptive)" : "") + "\n"
        }
        if let line = kopsEnvironmentLine(e) { s += "\n" + escape(line) + "\n" }
        s += "\n"
      }
      s += "</details>\n\n"
      sections.append(s)
    }
    var parts = MarkdownParts.pack(
      head: head, sections: sections, partLimit: partLimit, fullOutput: "`hk plan --format json` for the full plan")
    // Under the plan (the parts keep 200 characters of room for it).
    if let last = parts.indices.last { parts[last] += "`" + digestLine(plan) + "`\n" }
    return parts
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

/// Packs markdown sections into pull-request comments: GitHub refuses a comment over 65,536
/// characters. The head goes first; sections are never split across parts, and a section too
/// large for a part alone is cut inside its code block with a pointer to the full output.
public enum MarkdownParts {
  /// The largest part, in characters (under GitHub's limit, with room for the part header).
  public static let limit = 65_000

  /// - Parameters:
  ///   - head: What the first part starts with (title, summary).
  ///   - sections: One `<details>` block each, in order.
  ///   - partLimit: The largest part, in characters.
  ///   - fullOutput: Where the full text of a cut section is, e.g. "`hk plan --format json` for the full plan".
  /// - Returns: One part, or several headed "*Part i of n*".
  public static func pack(head: String, sections: [String], partLimit: Int = limit, fullOutput: String) -> [String] {
    var parts: [String] = []
    var current = head
    let budget = partLimit - 200
    for var s in sections {
      if s.count > budget {
        s = String(s.prefix(budget - 100)) + "\n```\n\n*(section cut: see \(fullOutput))*\n</details>\n\n"
      }
      if current.count + s.count > budget {
        parts.append(current)
        current = ""
      }
      current += s
    }
    parts.append(current)
    if parts.count > 1 {
      parts = parts.enumerated().map { i, p in "*Part \(i + 1) of \(parts.count)*\n\n" + p }
    }
    return parts
  }
}

extension PlanRenderer {
  /// Quotes argv for display like a POSIX shell would need it (display only: hk never runs a shell).
  public static func shell(_ argv: [String]) -> String {
    argv.map { a in
      if a.isEmpty { return "''" }
      let safe = a.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./=:,@%+<>".unicodeScalars.contains(c)
      }
      return safe ? Redaction.redact(text: a) : "'" + Redaction.redact(text: a).replacingAll("'", "'\\''") + "'"
    }.map(OutputEscaping.text).joined(separator: " ")
  }
}
