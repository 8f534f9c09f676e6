import HKTestSupport
import Model

@testable import Planner

/// The text renderer as it was before it wrote bytes (main at f5e373f): `text(_:)` of an
/// environment, `appendChangeLines`, `isLeftAsIs` and `shell`, kept as the reference for the
/// differential tests. Created and deleted objects' YAML comes from ``ReferenceYAMLEmitter``.
extension PlanRenderer {
  func referenceText(_ e: EnvironmentPlan) -> String {
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
      for c in cs { referenceAppendChangeLines(c, to: &out) }
    }
    if !e.steps.isEmpty {
      out += "  " + bold("steps") + "\n"
      for s in e.steps {
        let flag = s.disruptive ? "  " + paint("(disruptive)", .yellow) : ""
        out += "    \(s.id). " + PlanRenderer.referenceShell(s.command) + flag + "\n"
      }
      if let line = referenceKopsEnvironmentLine(e) { out += "    " + line + "\n" }
    }
    out += "\n"
    return out
  }

  func referenceKopsEnvironmentLine(_ e: EnvironmentPlan) -> String? {
    guard !e.kopsEnvironment.isEmpty, e.steps.contains(where: { $0.kind != .igwAttach && $0.kind != .igwDetach }) else { return nil }
    return "kops runs with "
      + PlanRenderer.referenceShell(e.kopsEnvironment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
  }

  func referenceAppendChangeLines(_ c: Change, to out: inout String) {
    guard c.action != .update, let v = c.action == .create ? c.after : c.before, let text = Self.referenceYAMLText(v) else {
      for line in changeLines(c) {
        out += "    "
        out += line
        out += "\n"
      }
      return
    }
    let (sym, col): (String, Paint) = c.action == .create ? ("+", .green) : ("-", .red)
    out += "    "
    out += referenceHeader(c, sym: sym, col: col, text: c.action == .create ? " =" : " (was:)")
    out += "\n"
    let prefix = "    " + paint(sym, col) + "   "
    var lines = text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
    while lines.last?.isEmpty == true { lines.removeLast() }
    for line in lines {
      out += prefix
      if Self.referenceIsLeftAsIs(line) {
        out += Substring(line)
      } else {
        out += OutputEscaping.text(String(decoding: line, as: UTF8.self))
      }
      out += "\n"
    }
  }

  static func referenceIsLeftAsIs(_ line: Substring.UTF8View) -> Bool {
    guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return false }
    return !line.drop(while: { $0 == 0x20 }).starts(with: "::".utf8)
  }

  func referenceHeader(_ c: Change, sym: String, col: Paint, text: String) -> String {
    var line = paint(sym, col) + " " + OutputEscaping.text(c.path) + text
    if c.widening { line += "  " + paint("[widens IAM]", .red) }
    if !c.rolls.isEmpty { line += "  [rolls \(OutputEscaping.text(c.rolls.joined(separator: ", ")))]" }
    return line
  }

  static func referenceYAMLText(_ v: JSONValue) -> String? {
    switch v {
    case .object(let m) where !m.isEmpty: return ReferenceYAMLEmitter.emit(json: v)
    case .array(let a) where !a.isEmpty: return ReferenceYAMLEmitter.emit(json: v)
    case .string(let s) where s.unicodeScalars.contains("\n"): return s
    default: return nil
    }
  }

  static func referenceShell(_ argv: [String]) -> String {
    argv.map { a in
      if a.isEmpty { return "''" }
      let safe = a.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./=:,@%+<>".unicodeScalars.contains(c)
      }
      return safe ? Redaction.redact(text: a) : "'" + Redaction.redact(text: a).replacingAll("'", "'\\''") + "'"
    }.map(OutputEscaping.text).joined(separator: " ")
  }

  /// `markdown(_:partLimit:)` as it was.
  func referenceMarkdown(_ plan: Plan, partLimit: Int) -> [String] {
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
          s +=
            "\(st.id). `" + OutputEscaping.codeSpan(PlanRenderer.referenceShell(st.command)) + "`" + (st.disruptive ? " (disruptive)" : "")
            + "\n"
        }
        if let line = referenceKopsEnvironmentLine(e) { s += "\n" + escape(line) + "\n" }
        s += "\n"
      }
      s += "</details>\n\n"
      sections.append(s)
    }
    var parts = Self.referencePack(
      head: head, sections: sections, partLimit: partLimit, fullOutput: "`hk plan --format json` for the full plan")
    // Under the plan (the parts keep 200 characters of room for it).
    if let last = parts.indices.last { parts[last] += "`" + digestLine(plan) + "`\n" }
    return parts
  }

  /// `MarkdownParts.pack` as it was (counting the part built so far again for each section).
  static func referencePack(head: String, sections: [String], partLimit: Int, fullOutput: String) -> [String] {
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

  /// `String.replacingAll` as it was (characters matched through `firstRange(of:)`).
  static func referenceReplacingAll(_ s: String, _ target: String, _ replacement: String) -> String {
    guard !target.isEmpty, s.contains(target) else { return s }
    var out = ""
    var rest = Substring(s)
    while let r = rest.firstRange(of: target) {
      out += rest[..<r.lowerBound]
      out += replacement
      rest = rest[r.upperBound...]
    }
    return out + rest
  }
}
