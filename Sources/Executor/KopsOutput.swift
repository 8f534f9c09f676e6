import Model

// MARK: Report types

/// What `kops update cluster` (dry run, or `--yes`) printed to stdout (kops-contract.md §1.7).
///
/// Whether changes are pending comes from kops's closing marker, never from the exit code (a
/// dry run exits 0 either way).
public struct UpdateReport: Sendable, Hashable {
  /// kops's closing line.
  public enum Marker: String, Sendable, Hashable {
    /// `Must specify --yes to apply changes`: a dry run found changes or deletions.
    case mustSpecifyYes
    /// `No changes need to be applied`.
    case noChanges
  }

  /// The closing marker, or `nil` when kops printed neither (a `--yes` run, or output cut short
  /// by an error).
  public var marker: Marker?
  /// `Will create resources:` tasks, in kops's order (sorted by task key).
  public var created: [TaskReport]
  /// `Will modify resources:` tasks with their field changes.
  public var modified: [TaskReport]
  /// Items listed under `Will delete items:` / `Items will be deleted …:`.
  public var deleted: [DeletionReport]
  /// A `--yes` run printed `Cluster changes have been applied to the cloud.`.
  public var applied: Bool

  public init(
    marker: Marker? = nil, created: [TaskReport] = [], modified: [TaskReport] = [], deleted: [DeletionReport] = [],
    applied: Bool = false
  ) {
    self.marker = marker
    self.created = created
    self.modified = modified
    self.deleted = deleted
    self.applied = applied
  }

  /// Whether the cloud differs from the state store: the marker when kops printed one, else
  /// whether any task or deletion was listed.
  public var hasChanges: Bool {
    switch marker {
    case .mustSpecifyYes: true
    case .noChanges: false
    case nil: !created.isEmpty || !modified.isEmpty || !deleted.isEmpty
    }
  }

  /// `Type/name` of every created and modified task.
  public var taskKeys: [String] { (created + modified).map(\.key) }
}

/// One kops task in an update report, e.g. `LaunchTemplate/nodes-a.dev.k8s.corp.local`.
public struct TaskReport: Sendable, Hashable {
  /// The task type (`LaunchTemplate`, `AutoscalingGroup`, `IAMRolePolicy`, `ManagedFile`, …).
  public var type: String
  /// The task name after the first `/` (may itself contain `/`).
  public var name: String
  /// The fields kops printed for the task, in order.
  public var fields: [FieldReport]

  public init(type: String, name: String, fields: [FieldReport] = []) {
    self.type = type
    self.name = name
    self.fields = fields
  }

  /// `Type/name`, as kops prints it.
  public var key: String { "\(type)/\(name)" }
}

/// One field line (or multi-line diff) of a task in an update report.
public struct FieldReport: Sendable, Hashable {
  /// The Go field name (`MinSize`, `UserData`, `PolicyDocument`, …).
  public var field: String
  /// For a created task: the value. For a modified single-line field: `old -> new` as printed
  /// (without kops's leading space). Empty for a multi-line change (see ``diff``).
  public var value: String
  /// For `old -> new` changes: the old value; `nil` otherwise.
  public var old: String?
  /// For `old -> new` changes: the new value; `nil` otherwise.
  public var new: String?
  /// For multi-line changes (user data, policy documents): kops's diff lines, verbatim.
  public var diff: [String]

  public init(field: String, value: String, old: String? = nil, new: String? = nil, diff: [String] = []) {
    self.field = field
    self.value = value
    self.old = old
    self.new = new
    self.diff = diff
  }
}

/// One item kops lists for deletion.
public struct DeletionReport: Sendable, Hashable {
  /// The task name column (e.g. `LaunchTemplate`).
  public var task: String
  /// The item (e.g. the resource name or id).
  public var item: String
  /// Listed under `Items will be deleted only when the --prune flag is specified:`.
  public var requiresPrune: Bool

  public init(task: String, item: String, requiresPrune: Bool = false) {
    self.task = task
    self.item = item
    self.requiresPrune = requiresPrune
  }
}

/// What `kops rolling-update cluster` printed to stdout (kops-contract.md §1.8).
public struct RollingUpdateReport: Sendable, Hashable {
  /// kops's closing line.
  public enum Marker: String, Sendable, Hashable {
    /// `Must specify --yes to rolling-update.` (older releases: no period).
    case mustSpecifyYes
    /// `No rolling-update required.`
    case notRequired
  }

  /// One row of the instance-group table.
  public struct Row: Sendable, Hashable {
    /// The instance group name.
    public var name: String
    /// `Ready` or `NeedsUpdate`.
    public var status: String
    /// Instances that need replacing.
    public var needUpdate: Int
    /// Instances that are up to date.
    public var ready: Int
    /// The group's minSize.
    public var min: Int
    /// The TARGET column (kops ≥ 1.18); `nil` when absent.
    public var target: Int?
    /// The group's maxSize.
    public var max: Int
    /// The NODES column; `nil` with `--cloudonly`.
    public var nodes: Int?

    public init(
      name: String, status: String, needUpdate: Int, ready: Int, min: Int, target: Int? = nil, max: Int,
      nodes: Int? = nil
    ) {
      self.name = name
      self.status = status
      self.needUpdate = needUpdate
      self.ready = ready
      self.min = min
      self.target = target
      self.max = max
      self.nodes = nodes
    }

    /// The row asks for a roll: status `NeedsUpdate` or a non-zero NEEDUPDATE count.
    public var needsUpdate: Bool { status == "NeedsUpdate" || needUpdate > 0 }
  }

  /// The table rows in kops's order (sorted by name).
  public var rows: [Row]
  /// The closing marker, or `nil` when none was printed (a `--yes` run that rolled).
  public var marker: Marker?

  public init(rows: [Row] = [], marker: Marker? = nil) {
    self.rows = rows
    self.marker = marker
  }

  /// Names of the instance groups that need a roll, in table order.
  public var needsUpdate: [String] { rows.filter(\.needsUpdate).map(\.name) }

  /// Whether a roll is required: the marker when kops printed one, else whether any row needs
  /// an update.
  public var required: Bool {
    switch marker {
    case .mustSpecifyYes: true
    case .notRequired: false
    case nil: !needsUpdate.isEmpty
    }
  }
}

/// `kops validate cluster -o json` (kops-contract.md §1.9). Healthy iff no failures.
public struct ValidateReport: Sendable, Hashable {
  /// One validation failure.
  public struct Failure: Sendable, Hashable {
    /// `Machine`, `Node`, `Pod`, `InstanceGroup`, `dns`, …
    public var type: String
    /// The object that failed (instance id, `namespace/pod`, …).
    public var name: String
    /// kops's explanation.
    public var message: String
    /// `metadata.name` of the failure's instance group, when kops attached one.
    public var instanceGroup: String?

    public init(type: String, name: String, message: String, instanceGroup: String? = nil) {
      self.type = type
      self.name = name
      self.message = message
      self.instanceGroup = instanceGroup
    }
  }

  /// One node kops saw.
  public struct Node: Sendable, Hashable {
    /// The Kubernetes node name.
    public var name: String
    /// The availability zone.
    public var zone: String
    /// `control-plane`, `node`, … (`master` before kops 1.26).
    public var role: String
    /// The `kubernetes.io/hostname` label.
    public var hostname: String
    /// `True`, `False` or `Unknown` (the node's Ready condition).
    public var status: String

    public init(name: String, zone: String, role: String, hostname: String, status: String) {
      self.name = name
      self.zone = zone
      self.role = role
      self.hostname = hostname
      self.status = status
    }
  }

  /// What is not healthy yet; empty when the cluster is healthy.
  public var failures: [Failure]
  /// The nodes kops saw.
  public var nodes: [Node]

  public init(failures: [Failure] = [], nodes: [Node] = []) {
    self.failures = failures
    self.nodes = nodes
  }

  /// No validation failures.
  public var healthy: Bool { failures.isEmpty }
}

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
