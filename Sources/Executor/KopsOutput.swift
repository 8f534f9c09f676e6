import Model

// MARK: Parsers

/// Parsers for what the kops CLI prints. Pure functions over text; they never throw and never
/// look at exit codes.
public enum KopsOutput {
  /// Parses the stdout of `kops update cluster` (dry run or `--yes`).
  ///
  /// Tolerates klog lines, banners and other text around the report, tabs rendered as spaces,
  /// and all three deletion headings kops has used.
  public static func parseUpdateDryRun(_ stdout: String) -> UpdateReport {
    enum Section {
      case none
      case create
      case modify
      case delete(prune: Bool)
    }
    var report = UpdateReport()
    var section = Section.none
    var task: TaskReport?
    var multiLine: FieldReport?

    func flushField() {
      if let field = multiLine { task?.fields.append(field) }
      multiLine = nil
    }
    func flushTask() {
      flushField()
      guard let t = task else { return }
      switch section {
      case .create: report.created.append(t)
      case .modify: report.modified.append(t)
      default: break
      }
      task = nil
    }

    for raw in lines(stdout) {
      let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
      if line.trimmingSpaces().isEmpty {
        // `  \t<20 spaces>\t` is an empty line inside a multi-line diff; other blank lines separate tasks.
        if multiLine != nil, line.contains("\t") { multiLine?.diff.append("") }
        continue
      }
      let indent = line.prefix { $0 == " " || $0 == "\t" }
      if indent.isEmpty {
        flushTask()
        let text = line.trimmingSpaces()
        switch text {
        case "Will create resources:": section = .create
        case "Will modify resources:": section = .modify
        case "Will delete items:", "Items will be deleted during update:": section = .delete(prune: false)
        case "Items will be deleted only when the --prune flag is specified:": section = .delete(prune: true)
        default:
          section = .none
          if text.hasPrefix("Must specify --yes to apply changes") {
            report.marker = .mustSpecifyYes
          } else if text.hasPrefix("No changes need to be applied") {
            report.marker = .noChanges
          } else if text.hasPrefix("Cluster changes have been applied to the cloud") {
            report.applied = true
          }
        }
        continue
      }
      switch section {
      case .none:
        continue
      case .delete(let prune):
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = fields.first else { continue }
        let item = trim(line.trimmingSpaces().dropFirst(first.count))
        report.deleted.append(DeletionReport(task: String(first), item: item, requiresPrune: prune))
      case .create, .modify:
        // A task header is indented by exactly two spaces: `  Type/name`.
        if indent == "  ", let slash = line.firstIndex(of: "/") {
          flushTask()
          let body = line.dropFirst(2)
          let cut = body.firstIndex(of: "/") ?? slash
          task = TaskReport(
            type: String(body[..<cut]), name: trim(body[body.index(after: cut)...]))
          continue
        }
        guard task != nil else { continue }
        let (name, description) = splitFieldLine(line)
        if name.isEmpty {
          // A continuation line of a multi-line change.
          if multiLine != nil { multiLine?.diff.append(description ?? "") }
          continue
        }
        flushField()
        guard let description else {
          multiLine = FieldReport(field: name, value: "")
          continue
        }
        var field = FieldReport(field: name, value: description)
        if case .modify = section {
          let value = description.hasPrefix(" ") ? String(description.dropFirst()) : description
          field.value = value
          if let arrow = value.range(of: " -> ") {
            field.old = String(value[..<arrow.lowerBound])
            field.new = String(value[arrow.upperBound...])
          }
        }
        task?.fields.append(field)
      }
    }
    flushTask()
    return report
  }

  /// Splits `  \t<Field padded to 20>\t<description>` into the field name and the description.
  ///
  /// Returns an empty name for a continuation line (`  \t<20 spaces>\t<diff line>`) and a
  /// `nil` description for the heading of a multi-line change. Also reads the docs' rendering
  /// with tabs turned into spaces (field, then two or more spaces, then the value).
  private static func splitFieldLine(_ line: String) -> (String, String?) {
    var rest = Substring(line)
    while let c = rest.first, c == " " { rest = rest.dropFirst() }
    if rest.first == "\t" {
      rest = rest.dropFirst()
      if let tab = rest.firstIndex(of: "\t") {
        return (trim(rest[..<tab]), String(rest[rest.index(after: tab)...]))
      }
      return (trim(rest), nil)
    }
    // Spaces only (tabs expanded): a deep indent is a continuation line.
    let indentWidth = line.count - rest.count
    if indentWidth >= 24 { return ("", String(rest)) }
    if let gap = rest.range(of: "  ") {
      let value = rest[gap.upperBound...].drop { $0 == " " }
      return (String(rest[..<gap.lowerBound]), String(value))
    }
    return (trim(rest), nil)
  }

  /// Parses the stdout of `kops rolling-update cluster`: the instance-group table (with or
  /// without TARGET and NODES, tab or space separated) and the closing marker.
  public static func parseRollingUpdate(_ stdout: String) -> RollingUpdateReport {
    var report = RollingUpdateReport()
    var columns: [String]?
    for raw in lines(stdout) {
      let text = raw.trimmingSpaces()
      let cells = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      if text.hasPrefix("Must specify --yes to rolling-update") {
        report.marker = .mustSpecifyYes
        columns = nil
        continue
      }
      if text.hasPrefix("No rolling-update required") {
        report.marker = .notRequired
        columns = nil
        continue
      }
      if cells.first == "NAME", cells.contains("STATUS"), cells.contains("NEEDUPDATE") {
        columns = cells
        continue
      }
      guard let header = columns else { continue }
      guard cells.count == header.count else {
        // The table ends at the first line that is not a row (blank line, klog output, …).
        columns = nil
        continue
      }
      var byColumn: [String: String] = [:]
      for (column, cell) in zip(header, cells) { byColumn[column] = cell }
      guard let name = byColumn["NAME"], let status = byColumn["STATUS"],
        let needUpdate = byColumn["NEEDUPDATE"].flatMap({ Int($0) }),
        let ready = byColumn["READY"].flatMap({ Int($0) }),
        let min = byColumn["MIN"].flatMap({ Int($0) }), let max = byColumn["MAX"].flatMap({ Int($0) })
      else {
        columns = nil
        continue
      }
      report.rows.append(
        RollingUpdateReport.Row(
          name: name, status: status, needUpdate: needUpdate, ready: ready, min: min,
          target: byColumn["TARGET"].flatMap { Int($0) }, max: max, nodes: byColumn["NODES"].flatMap { Int($0) }))
    }
    return report
  }

  /// Parses the stdout of `kops validate cluster -o json`.
  ///
  /// With `--wait` kops prints one object per round with no separator; the last complete
  /// object wins. kops omits empty `failures` and `nodes` (`omitempty`), so `{}` is a healthy
  /// report. Returns `nil` when stdout holds no complete JSON object (kops failed before
  /// printing one: see its `Error:` line).
  public static func parseValidate(_ stdout: String) -> ValidateReport? {
    for candidate in topLevelObjects(stdout).reversed() {
      guard let json = try? JSONValue.parse(candidate), json.members != nil else { continue }
      var report = ValidateReport()
      for failure in json["failures"]?.arrayValue ?? [] {
        report.failures.append(
          ValidateReport.Failure(
            type: failure["type"]?.stringValue ?? "", name: failure["name"]?.stringValue ?? "",
            message: failure["message"]?.stringValue ?? "",
            instanceGroup: failure["instanceGroup"]?["metadata"]?["name"]?.stringValue))
      }
      for node in json["nodes"]?.arrayValue ?? [] {
        report.nodes.append(
          ValidateReport.Node(
            name: node["name"]?.stringValue ?? "", zone: node["zone"]?.stringValue ?? "",
            role: node["role"]?.stringValue ?? "", hostname: node["hostname"]?.stringValue ?? "",
            status: node["status"]?.stringValue ?? ""))
      }
      return report
    }
    return nil
  }

  /// Splits kops's multi-document YAML (`\n---\n\n` between objects) into documents.
  ///
  /// A separator is a line that is exactly `---` (trailing spaces allowed). Empty documents are
  /// dropped; each document keeps its text up to, not including, the separator line.
  public static func splitDocuments(_ yaml: String) -> [String] {
    var documents: [String] = []
    var current: [Substring] = []
    func flush() {
      let text = current.joined(separator: "\n")
      if !text.trimmingSpaces().isEmpty {
        documents.append(text.hasSuffix("\n") ? text : text + "\n")
      }
      current = []
    }
    for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
      let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
      if trim(trimmed) == "---", trimmed.hasPrefix("---") {
        flush()
      } else {
        current.append(line)
      }
    }
    flush()
    return documents.map { document in
      // Drop the blank line kops leaves after each separator.
      var text = Substring(document)
      while text.first == "\n" { text = text.dropFirst() }
      return String(text)
    }
  }

  /// The last `Error: …` line cobra printed (the line as printed, without trailing spaces),
  /// or `nil` when stderr has none.
  public static func errorLine(_ stderr: String) -> String? {
    lines(stderr).last { $0.hasPrefix("Error: ") || $0 == "Error:" }.map { $0.trimmingSpaces() }
  }

  /// The most useful line to show for a failed kops command: the last `Error: …` line, else the
  /// last klog fatal/error line (`F…`/`E…`), else the last non-empty line of stderr, else of
  /// stdout.
  public static func failureSummary(stderr: String, stdout: String = "") -> String? {
    if let error = errorLine(stderr) { return error }
    let stderrLines = lines(stderr).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    if let klog = stderrLines.last(where: isKlogFailure) { return klog }
    return stderrLines.last ?? lines(stdout).map { $0.trimmingSpaces() }.last { !$0.isEmpty }
  }

  // MARK: Helpers

  private static func lines(_ text: String) -> [String] {
    text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
  }

  /// `F0906 10:16:35.320078   13607 file.go:91] …` or the same with `E`.
  private static func isKlogFailure(_ line: String) -> Bool {
    guard let first = line.first, first == "F" || first == "E" else { return false }
    let digits = line.dropFirst().prefix(4)
    return digits.count == 4 && digits.allSatisfy(\.isNumber)
  }

  /// The substrings of `text` that form balanced top-level `{…}` objects (strings respected).
  static func topLevelObjects(_ text: String) -> [String] {
    let bytes = Array(text.utf8)
    var objects: [String] = []
    var depth = 0
    var start = 0
    var inString = false
    var escaped = false
    for (i, b) in bytes.enumerated() {
      if inString {
        if escaped {
          escaped = false
        } else if b == UInt8(ascii: "\\") {
          escaped = true
        } else if b == UInt8(ascii: "\"") {
          inString = false
        }
        continue
      }
      switch b {
      case UInt8(ascii: "\""):
        if depth > 0 { inString = true }
      case UInt8(ascii: "{"):
        if depth == 0 { start = i }
        depth += 1
      case UInt8(ascii: "}"):
        guard depth > 0 else { continue }
        depth -= 1
        if depth == 0 { objects.append(String(decoding: bytes[start...i], as: UTF8.self)) }
      default:
        break
      }
    }
    return objects
  }
}

/// `text` without leading and trailing spaces, tabs and newlines.
private func trim(_ text: some StringProtocol) -> String { String(text).trimmingSpaces() }
