import Model

/// How a change's values read in a plan: created and deleted objects as the YAML the user
/// wrote, indented under their `+`/`-`; updated multi-line text (user data, policies) as a line
/// diff; everything else on the change's own line. Values reach here redacted (PlanBuilder).
extension PlanRenderer {
  /// The lines of one change: the first is ``changeLine(_:)``'s, the others carry the value.
  /// Every line starts with the change's symbol, so a markdown `diff` block colours them all.
  func changeLines(_ c: Change) -> [String] {
    let (sym, col): (String, Paint) =
      switch c.action {
      case .create: ("+", .green)
      case .delete: ("-", .red)
      case .update: ("~", .yellow)
      }
    switch c.action {
    case .create, .delete:
      guard let v = c.action == .create ? c.after : c.before, let block = Self.yamlBlock(v) else { return [changeLine(c)] }
      let prefix = paint(sym, col) + "   "
      return [header(c, sym: sym, col: col, text: c.action == .create ? " =" : " (was:)")] + block.map { prefix + OutputEscaping.text($0) }
    case .update:
      guard case .string(let old)? = c.before, case .string(let new)? = c.after,
        old.unicodeScalars.contains("\n") || new.unicodeScalars.contains("\n")
      else {
        return [changeLine(c)]
      }
      let diff = LineDiff.lines(old: old, new: new)
      let changed = diff.filter { $0.0 == "-" || $0.0 == "+" }.count
      return [header(c, sym: sym, col: col, text: ": text, \(changed) line\(changed == 1 ? "" : "s") changed")]
        + diff.map { kind, line in
          switch kind {
          case "-": paint("-", .red) + "   " + OutputEscaping.text(line)
          case "+": paint("+", .green) + "   " + OutputEscaping.text(line)
          case "…": "    …"
          default: "    " + OutputEscaping.text(line)
          }
        }
    }
  }

  /// ``changeLines(_:)`` as `text(_:)` lays them out (each indented four spaces and ended by a
  /// line feed), appended to `out` as UTF-8. A created or deleted object's YAML is emitted into
  /// `yaml` (a buffer the caller reuses) and its lines copied from there with their prefix; a
  /// line of printable ASCII not starting a workflow command is what ``OutputEscaping/text(_:)``
  /// leaves as it is, so only other lines are escaped through it.
  func appendChangeLines(_ c: Change, to out: inout [UInt8], yaml: inout [UInt8]) {
    guard c.action != .update, let v = c.action == .create ? c.after : c.before, Self.hasYAMLText(v) else {
      for line in changeLines(c) {
        out.append(utf8: "    " + line + "\n")
      }
      return
    }
    let (sym, col): (String, Paint) = c.action == .create ? ("+", .green) : ("-", .red)
    out.append(utf8: "    " + header(c, sym: sym, col: col, text: c.action == .create ? " =" : " (was:)") + "\n")
    yaml.removeAll(keepingCapacity: true)
    Self.appendYAMLText(v, to: &yaml)
    Self.appendLines(of: yaml, prefix: "    " + paint(sym, col) + "   ", to: &out)
  }

  /// Appends each line of `text` (cut at line feeds, trailing empty lines left out) to `out`
  /// after `prefix`, escaped by ``OutputEscaping/text(_:)``, and a line feed after each.
  static func appendLines(of text: [UInt8], prefix: String, to out: inout [UInt8]) {
    var prefix = prefix
    prefix.withUTF8 { p in
      // Nearly always every line is left as it is: the lines (each one byte past the one
      // before, at the line feed between) are then copied with their prefixes into room made
      // at the end of `out` at once, rather than appended piece by piece.
      var lengths: [Int] = []
      var leftAsIs = true
      forEachLine(of: text) { line, asIs in
        lengths.append(line.count)
        if !asIs { leftAsIs = false }
      }
      if leftAsIs {
        var total = 0
        for n in lengths { total += p.count + n + 1 }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: total))
        out.withUnsafeMutableBufferPointer { o in
          text.withUnsafeBufferPointer { t in
            // `at + p.count + n + 1 <= start + total == o.count` and `from + n <= t.count`:
            // the lengths are of lines of `t`, in order, one line feed apart.
            guard let dst = o.baseAddress, let src = t.baseAddress else { return }
            var at = start
            var from = 0
            for n in lengths {
              if let pb = p.baseAddress { (dst + at).update(from: pb, count: p.count) }
              at += p.count
              (dst + at).update(from: src + from, count: n)
              at += n
              dst[at] = 0x0A
              at += 1
              from += n + 1
            }
          }
        }
        return
      }
      forEachLine(of: text) { line, leftAsIs in
        out.append(contentsOf: p)
        if leftAsIs {
          out.append(contentsOf: line)
        } else {
          out.append(utf8: OutputEscaping.text(String(decoding: line, as: UTF8.self)))
        }
        out.append(0x0A)
      }
    }
  }

  /// Calls `body` with each line of `text` (cut at line feeds, trailing empty lines left out)
  /// and whether ``OutputEscaping/text(_:)`` leaves it as it is (printable ASCII not starting a
  /// workflow command).
  static func forEachLine(of text: [UInt8], _ body: (UnsafeBufferPointer<UInt8>, Bool) -> Void) {
    text.withUnsafeBufferPointer { t in
      var end = t.count
      while end > 0 && t[end - 1] == 0x0A { end -= 1 }
      guard end > 0 else { return }
      // Each line is `t[start..<i]`; `start` and `i` stay within `0...end`, `end <= t.count`.
      var start = 0
      while start <= end {
        var i = start
        var printable = true
        let raw = UnsafeRawPointer(t.baseAddress)
        while i < end {
          // Eight bytes at a time while they are all printable ASCII (`raw` is not nil when
          // `end > 0`; a word is read only where it fits before `end`).
          if let raw, i + 8 <= end, !OutputEscaping.mayHoldUnprintable(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) {
            i += 8
            continue
          }
          let c = t[i]
          if c &- 0x20 >= 0x5F {  // outside printable ASCII (0x20...0x7E)
            if c == 0x0A { break }
            printable = false
          }
          i += 1
        }
        let line = UnsafeBufferPointer(rebasing: t[start..<i])
        body(line, printable && !startsWorkflowCommand(line))
        start = i + 1
      }
    }
  }

  /// Spaces then `::`: ``OutputEscaping/text(_:)`` breaks such a line with a backslash.
  static func startsWorkflowCommand(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    var j = 0
    while j < line.count && line[j] == 0x20 { j += 1 }
    return j + 1 < line.count && line[j] == 0x3A && line[j + 1] == 0x3A
  }

  func header(_ c: Change, sym: String, col: Paint, text: String) -> String {
    var line = paint(sym, col) + " " + OutputEscaping.text(c.path) + text
    if c.widening { line += "  " + paint("[widens IAM]", .red) }
    if !c.rolls.isEmpty { line += "  [rolls \(OutputEscaping.text(c.rolls.joined(separator: ", ")))]" }
    return line
  }

  /// A collection or multi-line string as YAML lines (the emitter kops's files are written
  /// with); nil for a value that fits on the change's line.
  static func yamlBlock(_ v: JSONValue) -> [String]? {
    guard let text = yamlText(v) else { return nil }
    var lines = LineDiff.split(text)
    while lines.last?.isEmpty == true { lines.removeLast() }
    return lines
  }

  /// The YAML text of ``yamlBlock(_:)`` before it is cut into lines.
  static func yamlText(_ v: JSONValue) -> String? {
    guard hasYAMLText(v) else { return nil }
    var out: [UInt8] = []
    appendYAMLText(v, to: &out)
    return String(decoding: out, as: UTF8.self)
  }

  /// Whether ``yamlText(_:)`` has a text for `v`: a non-empty collection or multi-line string.
  static func hasYAMLText(_ v: JSONValue) -> Bool {
    switch v {
    case .object(let m): !m.isEmpty
    case .array(let a): !a.isEmpty
    case .string(let s): s.utf8.contains(0x0A)
    default: false
    }
  }

  /// Appends ``yamlText(_:)`` of `v` (for which ``hasYAMLText(_:)`` holds) as UTF-8.
  static func appendYAMLText(_ v: JSONValue, to out: inout [UInt8]) {
    if case .string(let s) = v {
      out.append(utf8: s)
    } else {
      YAMLEmitter.appendYAML(json: v, to: &out)
    }
  }
}

/// A line diff of two texts (longest common subsequence), with two lines of context around
/// each change and `…` for the unchanged lines between.
public enum LineDiff {
  /// Longer texts are shown as all old lines removed and all new lines added.
  static let maxCells = 4_000_000
  static let context = 2

  /// The lines of a text, split at every line feed (a `\r` before one stays on its line: a
  /// `String` would keep `\r\n` as one character and not split there).
  static func split(_ text: String) -> [String] {
    // A line feed is one UTF-8 byte that is never part of another character.
    text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
  }

  /// `(kind, line)` with kind `-`, `+`, ` ` (context) or `…` (skipped lines).
  public static func lines(old: String, new: String) -> [(Character, String)] {
    let a = split(old)
    let b = split(new)
    var ops: [(Character, String)] = []
    if a.count * b.count > maxCells {
      ops = a.map { ("-", $0) } + b.map { ("+", $0) }
    } else {
      // lcs[i][j]: common lines of a[i...] and b[j...]
      var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
      for i in stride(from: a.count - 1, through: 0, by: -1) {
        for j in stride(from: b.count - 1, through: 0, by: -1) {
          lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
        }
      }
      var i = 0
      var j = 0
      while i < a.count || j < b.count {
        if i < a.count && j < b.count && a[i] == b[j] {
          ops.append((" ", a[i]))
          i += 1
          j += 1
        } else if i < a.count && (j == b.count || lcs[i + 1][j] >= lcs[i][j + 1]) {
          ops.append(("-", a[i]))
          i += 1
        } else {
          ops.append(("+", b[j]))
          j += 1
        }
      }
    }
    // Keep context lines near a change only.
    let changedAt = ops.indices.filter { ops[$0].0 != " " }
    var keep = [Bool](repeating: false, count: ops.count)
    for k in changedAt {
      for n in max(0, k - context)...min(ops.count - 1, k + context) { keep[n] = true }
    }
    var out: [(Character, String)] = []
    var skipped = false
    for (k, op) in ops.enumerated() {
      if keep[k] {
        out.append(op)
        skipped = false
      } else if !skipped {
        out.append(("…", ""))
        skipped = true
      }
    }
    return out
  }
}
