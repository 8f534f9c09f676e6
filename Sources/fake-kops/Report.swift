/// One task of kops's dry-run report: `Type/name` and its printed fields.
struct TaskChange {
  var key: String
  /// For creates: `(field, value)`; for modifications: `(field, description)` where the
  /// description is ` old -> new` or a multi-line diff.
  var fields: [(String, String)]
}

/// kops's `DryRunTarget.PrintReport` (upup/pkg/fi/dryrun_target.go).
struct DryRunReport {
  var creates: [TaskChange] = []
  var modifies: [TaskChange] = []

  var hasChanges: Bool { !creates.isEmpty || !modifies.isEmpty }

  func render() -> String {
    var b = ""
    func field(_ name: String) -> String { name.padding(toLength: max(20, name.count), withPad: " ", startingAt: 0) }
    let blank = String(repeating: " ", count: 20)
    if !creates.isEmpty {
      b += "Will create resources:\n"
      for t in creates.sorted(by: { $0.key < $1.key }) {
        b += "  \(t.key)\n"
        for (name, value) in t.fields { b += "  \t\(field(name))\t\(value)\n" }
        b += "\n"
      }
    }
    if !modifies.isEmpty {
      b += "Will modify resources:\n"
      for t in modifies.sorted(by: { $0.key < $1.key }) {
        b += "  \(t.key)\n"
        for (name, description) in t.fields {
          let lines = description.split(separator: "\n", omittingEmptySubsequences: false)
          if lines.count == 1 {
            b += "  \t\(field(name))\t\(description)\n"
          } else {
            b += "  \t\(field(name))\n"
            for line in lines { b += "  \t\(blank)\t\(line)\n" }
          }
        }
        b += "\n"
      }
    }
    return b
  }
}

/// kops's `pkg/diff.FormatDiff`: a line diff with two lines of context and `...` for gaps.
enum TextDiff {
  static func format(_ old: String, _ new: String) -> String {
    let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // Longest common subsequence table.
    let n = a.count
    let m = b.count
    var lcs = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
    if n > 0 && m > 0 {
      for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
          lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
        }
      }
    }
    enum Op { case equal, delete, insert }
    var records: [(Op, String)] = []
    var i = 0
    var j = 0
    while i < n || j < m {
      if i < n && j < m && a[i] == b[j] {
        records.append((.equal, a[i]))
        i += 1
        j += 1
      } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
        records.append((.insert, b[j]))
        j += 1
      } else {
        records.append((.delete, a[i]))
        i += 1
      }
    }
    // kops prints deletions before insertions within a changed block.
    var ordered: [(Op, String)] = []
    var k = 0
    while k < records.count {
      if records[k].0 == .equal {
        ordered.append(records[k])
        k += 1
        continue
      }
      var deletes: [(Op, String)] = []
      var inserts: [(Op, String)] = []
      while k < records.count && records[k].0 != .equal {
        if records[k].0 == .delete { deletes.append(records[k]) } else { inserts.append(records[k]) }
        k += 1
      }
      ordered += deletes + inserts
    }
    var keep = [Bool](repeating: false, count: ordered.count)
    for (index, r) in ordered.enumerated() where r.0 != .equal {
      for c in max(0, index - 2)...min(ordered.count - 1, index + 2) { keep[c] = true }
    }
    var out = ""
    var wroteSkip = false
    for (index, r) in ordered.enumerated() {
      if !keep[index] {
        if !wroteSkip {
          out += "...\n"
          wroteSkip = true
        }
        continue
      }
      switch r.0 {
      case .delete: out += "- "
      case .insert: out += "+ "
      case .equal: out += "  "
      }
      out += r.1 + "\n"
      wroteSkip = false
    }
    return out
  }
}

/// kops's `util/pkg/tables`: rows sorted by all columns, Go `tabwriter` with tab padding
/// (minwidth 0, tabwidth 8, padding 1, padchar `\t`).
enum Table {
  static func render(_ header: [String], _ rows: [[String]]) -> String {
    let sorted = rows.sorted { l, r in
      for k in 0..<min(l.count, r.count) where l[k] != r[k] { return l[k] < r[k] }
      return false
    }
    let all = [header] + sorted
    let columns = header.count
    var widths = [Int](repeating: 0, count: columns)
    for row in all {
      for (c, cell) in row.enumerated() where c < columns - 1 {
        widths[c] = max(widths[c], cell.count + 1)
      }
    }
    var out = ""
    for row in all {
      for (c, cell) in row.enumerated() {
        out += cell
        if c < columns - 1 {
          let cellWidth = (widths[c] + 7) / 8 * 8
          let padding = cellWidth - cell.count
          out += String(repeating: "\t", count: (padding + 7) / 8)
        }
      }
      out += "\n"
    }
    return out
  }
}
