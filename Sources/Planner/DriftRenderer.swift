import Model

/// Renders drift reports for people: a terminal (`text`, coloured like the plan) or a pull
/// request / issue comment (`markdown`, one `<details>` block per environment). Pure functions.
public struct DriftRenderer: Sendable {
  public var color: Bool
  public init(color: Bool = false) { self.color = color }

  var plan: PlanRenderer { PlanRenderer(color: color) }

  // MARK: Text

  /// The report grouped per environment, then the summary line.
  public func text(_ report: DriftReport) -> String {
    var out = ""
    for e in report.environments { out += text(e) + "\n" }
    out += summary(report) + "\n"
    if let findings = findingsLine(report) { out += findings + "\n" }
    return out
  }

  /// One environment's block.
  public func text(_ e: EnvironmentDrift) -> String {
    var out = header(e) + "\n"
    if let error = e.error {
      out +=
        "  " + paint("error:", .red) + " "
        + error.split(separator: "\n", omittingEmptySubsequences: false).map { t(String($0)) }.joined(separator: "\n    ") + "\n"
    }
    if let g = e.gateway, let finding = g.finding {
      out += "  " + paint("! " + finding, .red) + ": " + gatewayDescription(g) + (g.isNew ? "  " + paint("[new]", .red) : "") + "\n"
    }
    if !e.drift.isEmpty {
      out += "  " + bold("drift") + " (live differs from recorded serial \(e.recorded.map { String($0.serial) } ?? "?"))\n"
      for d in e.drift { out += "    " + driftLine(d) + "\n" }
    }
    if !e.ignored.isEmpty {
      out += "  " + bold("ignored") + "\n"
      for i in e.ignored { out += "    " + ignoredLine(i) + "\n" }
    }
    if !e.pending.isEmpty {
      out += "  " + bold("pending") + " (desired or owed, not applied yet: see 'hk plan \(e.name)')\n"
      for p in e.pending { out += "    " + pendingLine(p) + "\n" }
    }
    for n in e.notes { out += "  note: " + t(n) + "\n" }
    if e.status == .inSync && e.notes.isEmpty {
      out += "  No drift, nothing pending.\n"
    }
    return out
  }

  func header(_ e: EnvironmentDrift) -> String {
    var context: [String] = []
    if let c = e.cluster { context.append(t(c)) }
    context.append(e.recorded.map { "recorded serial \($0.serial)" } ?? "nothing recorded")
    return bold("Environment \(t(e.name))") + " (\(context.joined(separator: "; "))): " + statusWord(e.status)
  }

  func statusWord(_ s: DriftStatus) -> String {
    switch s {
    case .inSync: paint("in sync", .green)
    case .drifted: paint("drifted", .red)
    case .pending: paint("pending", .yellow)
    case .error: paint("error", .red)
    }
  }

  /// `~ path: recorded → live`, `+ path = live` (only live), `- path (was recorded)` (only recorded).
  public func driftLine(_ d: DriftItem) -> String {
    var line: String
    switch (d.recorded, d.live) {
    case (nil, let live):
      line = paint("+", .green) + " " + t(d.path) + " = " + plan.short(live) + " (live only)"
    case (let recorded, nil):
      line = paint("-", .red) + " " + t(d.path) + " (recorded " + plan.short(recorded) + ", gone live)"
    case (let recorded, let live):
      line = paint("~", .yellow) + " " + t(d.path) + ": recorded " + plan.short(recorded) + " → live " + plan.short(live)
    }
    if d.isNew { line += "  " + paint("[new]", .yellow) }
    return line
  }

  func ignoredLine(_ i: IgnoredField) -> String {
    (i.expired ? paint("!", .yellow) : "=") + " " + t(i.path) + ": " + ignoredDetail(i)
  }

  /// `reason (until D)`, or for an expired rule `rule 'P' expired after D: reported as drift (reason)`.
  func ignoredDetail(_ i: IgnoredField) -> String {
    if i.expired {
      return t("rule '\(i.rule)' expired after \(i.until ?? "?"): reported as drift (\(i.reason))")
    }
    return t(i.reason + " (" + (i.until.map { "until \($0)" } ?? "no end date") + ")")
  }

  func pendingLine(_ p: PendingItem) -> String {
    if p.category == "layer" { return "! " + t(p.path) + (p.note.map { ": " + t($0) } ?? "") }
    let symbol: String =
      switch p.action {
      case "create": paint("+", .green)
      case "delete": paint("-", .red)
      default: paint("~", .yellow)
      }
    return symbol + " " + t(p.path) + " (" + t(p.category) + ")" + (p.note.map { ": " + t($0) } ?? "")
  }

  func gatewayDescription(_ g: GatewayCheck) -> String {
    t("internet gateway \(g.id) is attached to \(g.vpc ?? "the VPC") (expected \(g.expected.rawValue))")
  }

  /// `Drift: 1 drifted, 1 pending, 1 in sync, 0 errors (3 environments).`
  public func summary(_ report: DriftReport) -> String {
    let n = report.environments.count
    let errors = report.count(.error)
    return "Drift: \(report.count(.drifted)) drifted, \(report.count(.pending)) pending, \(report.count(.inSync)) in sync, "
      + "\(errors) error\(errors == 1 ? "" : "s") (\(n) environment\(n == 1 ? "" : "s"))."
  }

  func findingsLine(_ report: DriftReport) -> String? {
    let names = report.environments.filter { $0.gateway?.finding != nil }.map(\.name)
    if names.isEmpty { return nil }
    return paint("Security:", .red) + " internet gateway attached outside an apply in " + t(names.joined(separator: ", "))
      + "; detach it, or find out who attached it."
  }

  // MARK: Markdown

  /// The report as one or more comments (``MarkdownParts``, each under `partLimit`
  /// characters): a summary, security findings, then a `<details>` block per environment
  /// (sections larger than `sectionLimit` characters are cut).
  public func markdown(_ report: DriftReport, sectionLimit: Int = 20_000, partLimit: Int = MarkdownParts.limit) -> [String] {
    var out = "## hk drift\n\n" + DriftRenderer(color: false).summary(report) + "\n\n"
    let findings = report.environments.compactMap { e in e.gateway.flatMap { g in g.finding.map { _ in (e.name, g) } } }
    if !findings.isEmpty {
      out += "**Security findings**:\n"
      for (name, g) in findings {
        out +=
          "- `\(code(name))`: internet gateway `\(code(g.id))` attached to `\(code(g.vpc ?? "the VPC"))` outside an apply"
          + (g.isNew ? " (new)" : "") + "\n"
      }
      out += "\n"
    }
    let plain = DriftRenderer(color: false)
    var sections: [String] = []
    for e in report.environments {
      var s = "<details><summary><b>\(escape(e.name))</b>"
      if let c = e.cluster { s += " (\(escape(c)))" }
      s += ": " + e.status.rawValue
      switch e.status {
      case .drifted:
        var parts: [String] = []
        if !e.drift.isEmpty { parts.append("\(e.drift.count) field\(e.drift.count == 1 ? "" : "s")") }
        if e.gateway?.finding != nil { parts.append("IGW finding") }
        if e.newCount > 0 { parts.append("\(e.newCount) new") }
        s += " — " + parts.joined(separator: ", ")
      case .pending: s += " — \(e.pending.count) pending"
      default: break
      }
      s += "</summary>\n\n"
      if let error = e.error { s += "**Error**: " + escape(error) + "\n\n" }
      if let g = e.gateway, let finding = g.finding {
        s += "**\(escape(finding))**: " + escape(gatewayDescription(g)) + (g.isNew ? " (new)" : "") + "\n\n"
      }
      if !e.drift.isEmpty {
        s += "Drift (live vs recorded serial \(e.recorded.map { String($0.serial) } ?? "?")):\n\n```diff\n"
        for d in e.drift { s += OutputEscaping.fenced(plain.driftLine(d)) + "\n" }
        s += "```\n\n"
      }
      if !e.ignored.isEmpty {
        s += "Ignored:\n\n"
        for i in e.ignored { s += "- `" + code(i.path) + "`: " + escape(plain.ignoredDetail(i)) + "\n" }
        s += "\n"
      }
      if !e.pending.isEmpty {
        s += "Pending (run `hk plan \(e.name)`):\n\n"
        for p in e.pending {
          s +=
            "- `" + code(p.path) + "` " + escape(p.action.map { "(\(p.category) \($0))" } ?? "(\(p.category))")
            + (p.note.map { ": " + escape($0) } ?? "") + "\n"
        }
        s += "\n"
      }
      for n in e.notes { s += "> " + escape(n) + "\n" }
      if !e.notes.isEmpty { s += "\n" }
      if e.status == .inSync && e.notes.isEmpty { s += "No drift, nothing pending.\n\n" }
      if s.count > sectionLimit {
        s = String(s.prefix(sectionLimit)) + "\n```\n\n*(section cut: see `hk drift --format json` for the full report)*\n\n"
      }
      s += "</details>\n\n"
      sections.append(s)
    }
    return MarkdownParts.pack(
      head: out, sections: sections, partLimit: partLimit, fullOutput: "`hk drift --format json` for the full report")
  }

  func escape<S: StringProtocol>(_ s: S) -> String { OutputEscaping.markdown(String(s)) }
  func code(_ s: String) -> String { OutputEscaping.codeSpan(s) }
  func t(_ s: String) -> String { OutputEscaping.text(s) }

  // MARK: Colour

  func paint(_ s: String, _ p: PlanRenderer.Paint) -> String { color ? "\u{1B}[\(p.rawValue)m\(s)\u{1B}[0m" : s }
  func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
}
