import Model
import Planner

/// Decides whether a reviewed plan may run (DESIGN.md §3, "what was reviewed is what runs").
///
/// apply re-plans from the current files and recorded state and compares: the reviewed plan's
/// digest (a plan file's, or `--expect-digest`) must equal the re-plan's, and then the
/// *re-planned* steps run. Nothing read from a plan file is ever executed; the file only says
/// what was reviewed. A refusal says what differs.
public enum Staleness {
  /// Checks a plan file against the re-plan of its environments.
  ///
  /// - Parameters:
  ///   - saved: the plan file as read back.
  ///   - file: its path, for messages.
  ///   - current: the re-plan of the same environments, in the same order.
  /// - Throws: ``CommandError`` saying what differs when the file may not run.
  public static func check(saved: PlanJSON.Saved, file: String, current: Plan) throws {
    var problems: [String] = []
    guard let stated = saved.statedDigest else {
      throw CommandError.message(
        "\(file): the plan has no plan_digest (made by an older hk, or not by hk); nothing was run; save it again with 'hk plan --out FILE'"
      )
    }
    let content = saved.contentDigest
    if content != stated {
      problems.append(
        "the file's content does not match its plan_digest \(short(stated)) (content \(short(content))): it was edited after hk wrote it, or written by another hk version"
      )
    }
    for (s, entry) in zip(saved.plan.environments, saved.entries) {
      guard let c = current.environments.first(where: { $0.name == s.name }) else {
        problems.append("\(s.name): no longer an environment")
        continue
      }
      problems += differences(saved: s, savedEntry: entry, current: c)
    }
    // In the file's order (the digest covers the order too).
    let ordered = saved.plan.environments.compactMap { s in current.environments.first { $0.name == s.name } }
    let now = PlanDigest.digest(Plan(environments: ordered))
    if problems.isEmpty && now != stated {
      problems.append("the plan made now has digest \(short(now)), the file \(short(stated))")
    }
    if !problems.isEmpty {
      throw CommandError.planRefused(
        "the plan file \(file)", problems.joined(separator: "; "), next: "review 'hk plan' and save it again with --out FILE")
    }
  }

  /// Checks the digest a reviewer saw (`--expect-digest`) against the re-plan.
  /// - Throws: ``CommandError`` with the digest of now when they differ.
  public static func check(expected: String, current: Plan) throws {
    let now = PlanDigest.digest(current)
    guard now != expected else { return }
    let names = current.environments.map(\.name).joined(separator: " ")
    var what = "the plan made now from the current files and recorded state has digest \(now), not the expected \(expected)"
    if current.environments.count > 1 {
      what += " (a digest covers exactly the environments planned together: \(names))"
    }
    throw CommandError.planRefused(
      "the reviewed plan (--expect-digest)", what,
      next: "run 'hk plan \(names)' to see what changed since the review (recorded state, files or hk version)")
  }

  /// What differs between one environment's saved part and its re-plan (empty when equal).
  static func differences(saved s: EnvironmentPlan, savedEntry: JSONValue, current c: EnvironmentPlan) -> [String] {
    var problems: [String] = []
    if s.prior != c.prior {
      func d(_ p: PriorState?) -> String { p.map { "serial \($0.serial) (lineage \($0.lineage.prefix(8)))" } ?? "empty state" }
      problems.append("\(s.name): recorded state moved from \(d(s.prior)) to \(d(c.prior))")
    }
    if s.desiredDigest != c.desiredDigest {
      problems.append("\(s.name): the desired files changed (digest \(s.desiredDigest.prefix(19))… → \(c.desiredDigest.prefix(19))…)")
    }
    let mine = PlanDigest.canonical(savedEntry)
    let theirs = PlanDigest.canonical(c)
    if mine["changes"] != theirs["changes"] {
      problems.append("\(s.name): the changes differ from the re-plan's (" + changeDifference(mine["changes"], theirs["changes"]) + ")")
    }
    if mine["steps"] != theirs["steps"] {
      problems.append("\(s.name): the steps differ from the re-plan's (" + stepDifference(mine["steps"], theirs["steps"]) + ")")
    }
    if mine["name"] != theirs["name"] && problems.isEmpty {
      problems.append("\(s.name): the entry differs from the re-plan's")
    }
    return problems
  }

  static func changeDifference(_ a: JSONValue?, _ b: JSONValue?) -> String {
    let saved = a?.arrayValue ?? []
    let now = b?.arrayValue ?? []
    func key(_ c: JSONValue) -> String { (c["action"]?.stringValue ?? "?") + " " + (c["path"]?.stringValue ?? "?") }
    for (i, c) in saved.enumerated() where i < now.count && c != now[i] {
      return key(c) == key(now[i]) ? "\(key(c)): a value differs" : "file has \(key(c)), re-plan \(key(now[i]))"
    }
    if saved.count != now.count { return "\(saved.count) in the file, \(now.count) in the re-plan" }
    return "a change differs"
  }

  static func stepDifference(_ a: JSONValue?, _ b: JSONValue?) -> String {
    let saved = a?.arrayValue ?? []
    let now = b?.arrayValue ?? []
    func describe(_ s: JSONValue) -> String {
      let argv = (s["command"]?.arrayValue ?? []).compactMap(\.stringValue)
      let text = "step \(s["id"]?.intValue.map(String.init) ?? "?") " + (s["kind"]?.stringValue ?? "?") + ": " + PlanRenderer.shell(argv)
      // One line, however the file was edited.
      let line = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : $0 }))
      return line.count > 200 ? String(line.prefix(199)) + "…" : line
    }
    for (i, s) in saved.enumerated() where i < now.count && s != now[i] {
      return "file has \(describe(s)), re-plan \(describe(now[i]))"
    }
    if saved.count != now.count { return "\(saved.count) in the file, \(now.count) in the re-plan" }
    return "a step differs"
  }

  static func short(_ digest: String) -> String { String(digest.prefix(19)) + "…" }
}
