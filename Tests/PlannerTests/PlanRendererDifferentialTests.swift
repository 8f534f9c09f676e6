import HKTestSupport
import Model
import Testing

@testable import Planner

/// The byte renderer (`text(_:)` of an environment, `appendChangeLines`, `shell`) against the
/// `String` renderer it replaced (`PlanRendererReference.swift`), colour on and off.
@Suite struct PlanRendererDifferentialTests {
  static func environment(_ g: inout TrickyValues.Generator, index: Int) -> EnvironmentPlan {
    var changes: [Change] = []
    let actions: [ChangeAction] = [.create, .delete, .update]
    for _ in 0..<g.below(7) {
      let action = actions[g.below(3)]
      var value = g.value(depth: 4)
      if g.below(3) == 0 { value = .obj([("kind", .string("Cluster")), ("spec", g.value(depth: 4))]) }
      if g.below(5) == 0 { value = .string(g.string() + "\n" + g.string()) }
      let other: JSONValue = g.below(2) == 0 ? .string(g.string() + "\n" + g.string()) : g.value(depth: 2)
      changes.append(
        Change(
          category: ChangeCategory.allCases[g.below(ChangeCategory.allCases.count)], action: action, path: g.string(),
          before: action == .create ? nil : (action == .update ? other : value), after: action == .delete ? nil : value,
          rolls: g.below(3) == 0 ? [g.string(), g.string()] : [], widening: g.below(4) == 0))
    }
    var steps: [Step] = []
    for i in 0..<g.below(4) {
      let argv = (0..<g.below(6)).map { _ in g.below(2) == 0 ? g.string() : ["kops", "--state", "s3://b-1/x", "--yes"][g.below(4)] }
      steps.append(Step(id: i + 1, kind: StepKind.allCases[g.below(StepKind.allCases.count)], command: argv, disruptive: g.below(3) == 0))
    }
    let owed: [OwedWork] = g.below(4) == 0 ? [.gatewayLeftAttached(gateway: g.string()), .rollsOwed([g.string()])] : []
    let env: [String: String] = g.below(2) == 0 ? ["AWS_PROFILE": g.string(), "AWS_REGION": "eu-west-1"] : [:]
    return EnvironmentPlan(
      name: g.string(), cluster: g.string(), prior: g.below(2) == 0 ? PriorState(serial: Int64(index), lineage: g.string()) : nil,
      desiredDigest: "d", changes: changes, steps: steps, owed: owed, kopsEnvironment: env)
  }

  @Test(arguments: [false, true])
  func generatedEnvironments(color: Bool) {
    let renderer = PlanRenderer(color: color)
    var g = TrickyValues.Generator(seed: color ? 0xC0_10B : 0x7E_47)
    for i in 0..<300 {
      let e = Self.environment(&g, index: i)
      #expect(renderer.text(e) == renderer.referenceText(e), "\(e)")
    }
  }

  @Test(arguments: [ChangeAction.create, .delete, .update], [false, true])
  func trickyStringsInChanges(action: ChangeAction, color: Bool) {
    let renderer = PlanRenderer(color: color)
    for s in TrickyValues.strings {
      for v: JSONValue in [.string(s), .obj([(s, .string(s))]), .array([.string(s), .obj([("k", .string(s))])])] {
        let c = Change(
          category: .spec, action: action, path: s, before: action == .create ? nil : v, after: action == .delete ? nil : v,
          rolls: [s])
        var bytes: [UInt8] = []
        var yaml: [UInt8] = []
        renderer.appendChangeLines(c, to: &bytes, yaml: &yaml)
        var reference = ""
        renderer.referenceAppendChangeLines(c, to: &reference)
        #expect(String(decoding: bytes, as: UTF8.self) == reference, "\(v)")
      }
    }
  }

  @Test func shellQuoting() {
    var g = TrickyValues.Generator(seed: 5)
    #expect(PlanRenderer.shell([]) == PlanRenderer.referenceShell([]))
    #expect(PlanRenderer.shell(TrickyValues.strings) == PlanRenderer.referenceShell(TrickyValues.strings))
    for s in TrickyValues.strings {
      #expect(PlanRenderer.shell([s, "x"]) == PlanRenderer.referenceShell([s, "x"]), "\(s)")
    }
    for _ in 0..<500 {
      let argv = (0..<g.below(5)).map { _ in g.string() }
      #expect(PlanRenderer.shell(argv) == PlanRenderer.referenceShell(argv), "\(argv)")
    }
    // Arguments of the shell-safe bytes (copied as they are), some of which redaction changes
    // or output escaping would (a leading `::`).
    let safe = [
      "kops", "--state", "s3://b", "::error", "::", ":", "a::b", "PASSWORD=x", "--user=a:b", "-u", "a:b@h", "http://u:p@h/x",
      "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1", "x=ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1", "AKIAABCDEFGHIJKLMNOP", "<scratch>/c.yaml", "%+,@",
    ]
    for a in safe {
      for b in safe {
        #expect(PlanRenderer.shell([a, b]) == PlanRenderer.referenceShell([a, b]), "\(a) \(b)")
      }
    }
  }

  /// Lines of YAML with every byte that decides whether a line is copied as it is.
  @Test func linesCopiedOrEscaped() {
    let texts = [
      "a\nb", "", "\n", "\n\n", "a\n\n", "\na", "::x", "  ::x", " :: x", ":x", "a::", " : :", "\t::", "tab\tx", "é", "\u{7F}", "\u{1F}",
      "a\u{202E}\n\u{2028}\n", "x\r\ny", "~", " ", "  \n  ",
    ]
    for t in texts {
      var out: [UInt8] = []
      PlanRenderer.appendLines(of: Array(t.utf8), prefix: "> ", to: &out)
      var lines = t.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
      while lines.last?.isEmpty == true { lines.removeLast() }
      let expected = lines.map { line in
        "> "
          + (PlanRenderer.referenceIsLeftAsIs(line) ? String(Substring(line)) : OutputEscaping.text(String(decoding: line, as: UTF8.self)))
          + "\n"
      }.joined()
      #expect(String(decoding: out, as: UTF8.self) == expected, "\(t)")
    }
    // Generated texts of printable lines (copied with their prefixes at once) and of lines to
    // escape, after bytes already in the buffer, with each prefix the renderer uses and others.
    var g = TrickyValues.Generator(seed: 0x11_4E5)
    let plain = ["a", "  key: value", "- item", "", "    x: \"q\"", "|", "  ::", String(repeating: "z", count: 70)]
    for n in 0..<3000 {
      let lines = (0..<g.below(12)).map { _ in g.below(4) == 0 ? g.string() : plain[g.below(plain.count)] }
      let t = lines.joined(separator: "\n") + (g.below(2) == 0 ? "\n" : "")
      let prefix = ["", "> ", "    +   ", "    -   ", "    \u{1B}[32m+\u{1B}[0m   "][n % 5]
      var out: [UInt8] = Array("head\n".utf8)
      PlanRenderer.appendLines(of: Array(t.utf8), prefix: prefix, to: &out)
      var split = t.utf8.split(separator: 0x0A, omittingEmptySubsequences: false)
      while split.last?.isEmpty == true { split.removeLast() }
      let expected = split.map { line in
        prefix
          + (PlanRenderer.referenceIsLeftAsIs(line) ? String(Substring(line)) : OutputEscaping.text(String(decoding: line, as: UTF8.self)))
          + "\n"
      }.joined()
      #expect(String(decoding: out, as: UTF8.self) == "head\n" + expected, "\(t)")
    }
  }
}

/// The markdown renderer's byte path, part packing and `replacingAll` against their references.
@Suite struct MarkdownDifferentialTests {
  @Test(arguments: [65_000, 3_000, 900])
  func generatedPlans(partLimit: Int) {
    var g = TrickyValues.Generator(seed: UInt64(partLimit))
    for round in 0..<20 {
      let envs = (0..<(1 + g.below(8))).map { PlanRendererDifferentialTests.environment(&g, index: round * 10 + $0) }
      let failed = g.below(4) == 0 ? [FailedEnvironment(name: g.string(), diagnostics: [])] : []
      let plan = Plan(environments: envs, failed: failed)
      let renderer = PlanRenderer()
      #expect(renderer.markdown(plan, partLimit: partLimit) == renderer.referenceMarkdown(plan, partLimit: partLimit))
    }
  }

  @Test func packing() {
    var g = TrickyValues.Generator(seed: 11)
    for _ in 0..<200 {
      let head = g.below(3) == 0 ? "head\r" : "## head\n\n"
      let sections = (0..<g.below(12)).map { _ in
        (0..<g.below(40)).map { _ in g.string() }.joined(separator: g.below(2) == 0 ? "\n" : "\r\n") + (g.below(4) == 0 ? "\r" : "\n\n")
      }
      let limit = 300 + g.below(900)
      #expect(
        MarkdownParts.pack(head: head, sections: sections, partLimit: limit, fullOutput: "x")
          == PlanRenderer.referencePack(head: head, sections: sections, partLimit: limit, fullOutput: "x"))
    }
    for s in TrickyValues.strings + ["\r\n\r\n", "a\r\r\n", "\r", "é\r\n", ""] {
      #expect(MarkdownParts.characterCount(s) == s.count, "\(s)")
    }
  }

  @Test func replacingAll() {
    var g = TrickyValues.Generator(seed: 3)
    var texts = TrickyValues.strings + ["```", "````", "``````", "~~~~", "a```b~~~c", "'''", "x'y'z", "a'\u{301}b", "``\u{301}`"]
    for _ in 0..<500 { texts.append(g.string() + "```" + g.string() + "'" + g.string()) }
    let targets: [(String, String)] = [("'", "'\\''"), ("`", "'"), ("```", "'''"), ("~~~", "---"), ("é", "e"), ("a", ""), ("\r\n", "|")]
    for t in texts {
      for (target, replacement) in targets {
        #expect(t.replacingAll(target, replacement) == PlanRenderer.referenceReplacingAll(t, target, replacement), "\(t)")
      }
    }
  }
}
