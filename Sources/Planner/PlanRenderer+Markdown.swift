import Model

/// Plans as pull-request comments.
extension PlanRenderer {
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
    // Sections are written as UTF-8; the YAML of one created or deleted object at a time is
    // emitted into `yaml` (reused).
    var out: [UInt8] = []
    var yaml: [UInt8] = []
    let plain = PlanRenderer(color: false)
    for e in plan.environments {
      out.removeAll(keepingCapacity: true)
      out.append(utf8: "<details><summary><b>\(escape(e.name))</b> (\(escape(e.cluster))): ")
      out.append(utf8: e.hasChanges ? "\(Self.count(e.changes.count, "change")), \(Self.count(e.steps.count, "step"))" : "no changes")
      out.append(utf8: "</summary>\n\n")
      for owed in e.owed { out.append(utf8: "> " + OutputEscaping.markdown(Self.owedLine(owed)) + "\n") }
      if !e.owed.isEmpty { out.append(0x0A) }
      if !e.changes.isEmpty {
        out.append(utf8: "```diff\n")
        for category in ChangeCategory.allCases {
          for c in e.changes where c.category == category { plain.appendFencedChangeLines(c, to: &out, yaml: &yaml) }
        }
        out.append(utf8: "```\n\n")
      }
      if !e.steps.isEmpty {
        out.append(utf8: "Steps:\n\n")
        for st in e.steps {
          out.append(utf8: "\(st.id). `" + OutputEscaping.codeSpan(PlanRenderer.shell(st.command)) + "`")
          out.append(utf8: (st.disruptive ? " (disruptive)" : "") + "\n")
        }
        if let line = kopsEnvironmentLine(e) { out.append(utf8: "\n" + escape(line) + "\n") }
        out.append(0x0A)
      }
      out.append(utf8: "</details>\n\n")
      sections.append(String(decoding: out, as: UTF8.self))
    }
    var parts = MarkdownParts.pack(
      head: head, sections: sections, partLimit: partLimit, fullOutput: "`hk plan --format json` for the full plan")
    // Under the plan (the parts keep 200 characters of room for it).
    if let last = parts.indices.last { parts[last] += "`" + digestLine(plan) + "`\n" }
    return parts
  }

  /// ``changeLines(_:)`` inside a markdown `diff` block: each line ``OutputEscaping/fenced(_:)``
  /// and ended by a line feed, appended to `out` (for an uncoloured renderer). A created or
  /// deleted object's YAML lines that ``OutputEscaping/text(_:)`` leaves as they are only have
  /// their fence markers broken, on the bytes.
  func appendFencedChangeLines(_ c: Change, to out: inout [UInt8], yaml: inout [UInt8]) {
    guard !color, c.action != .update, let v = c.action == .create ? c.after : c.before, Self.hasYAMLText(v) else {
      for line in changeLines(c) { out.append(utf8: OutputEscaping.fenced(line) + "\n") }
      return
    }
    let (sym, col): (String, Paint) = c.action == .create ? ("+", .green) : ("-", .red)
    out.append(utf8: OutputEscaping.fenced(header(c, sym: sym, col: col, text: c.action == .create ? " =" : " (was:)")) + "\n")
    yaml.removeAll(keepingCapacity: true)
    Self.appendYAMLText(v, to: &yaml)
    let symbol: UInt8 = c.action == .create ? 0x2B : 0x2D
    Self.forEachLine(of: yaml) { line, leftAsIs in
      if leftAsIs {
        // `fenced` of "+   " and the line: `text` leaves it, and no marker spans the prefix.
        out.append(contentsOf: [symbol, 0x20, 0x20, 0x20])
        OutputEscaping.appendFencesBroken(line, to: &out)
      } else {
        out.append(utf8: OutputEscaping.fenced(sym + "   " + OutputEscaping.text(String(decoding: line, as: UTF8.self))))
      }
      out.append(0x0A)
    }
  }
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
    // Characters of `current`, kept as it grows: text after a line feed starts a new
    // character, so then the counts add up (else `current` is counted again).
    var currentCount = characterCount(head)
    let budget = partLimit - 200
    for var s in sections {
      var count = characterCount(s)
      if count > budget {
        s = String(s.prefix(budget - 100)) + "\n```\n\n*(section cut: see \(fullOutput))*\n</details>\n\n"
        count = characterCount(s)
      }
      if currentCount + count > budget {
        parts.append(current)
        current = ""
        currentCount = 0
      }
      let adds = current.isEmpty || current.utf8.last == 0x0A
      current += s
      currentCount = adds ? currentCount + count : characterCount(current)
    }
    parts.append(current)
    if parts.count > 1 {
      parts = parts.enumerated().map { i, p in "*Part \(i + 1) of \(parts.count)*\n\n" + p }
    }
    return parts
  }

  /// `s.count`: for ASCII text every byte is a character but the line feed of `\r\n`.
  static func characterCount(_ s: String) -> Int {
    var s = s
    return s.withUTF8 { b -> Int? in
      var count = b.count
      var prev: UInt8 = 0
      for c in b {
        if c >= 0x80 { return nil }
        if c == 0x0A && prev == 0x0D { count -= 1 }
        prev = c
      }
      return count
    } ?? s.count
  }
}
