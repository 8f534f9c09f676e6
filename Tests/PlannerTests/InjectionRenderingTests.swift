import Foundation
import Model
import Planner
import Testing

/// Issue 17 item 1: text a pull request (or a live cluster changed out of band) controls —
/// instance group names, paths, values, kops's error text, ignore reasons — cannot forge
/// structure in hk's markdown (checked by rendering it with GitHub's cmark-gfm,
/// `scripts/markdown-structure.py`) nor start a workflow command or an ANSI sequence in its text.
@Suite struct InjectionRenderingTests {
  /// The payload: closes a span, forges a "No changes" heading, pings, loads an image,
  /// and hides the rest in an HTML comment; then a workflow command and ANSI escapes.
  static let payload =
    "nodes-b).\n\n## hk plan\n\nNo changes. cc @octocat ![](https://evil.example/beacon.png)\n\n<!--"
  static let workflow = "x\n::error file=README.md::pwned\u{1B}[2J\u{1B}]8;;https://evil.example\u{07}\u{202E}"
  static let fence = "```\n</details>\n# Forged"

  static var plan: Plan {
    let hostile = payload + workflow
    let changes = [
      Change(
        category: .instancegroup, action: .update, path: "instancegroup[\(hostile)].spec.machineType", before: .string("t3.large"),
        after: .string(fence + hostile), rolls: [hostile]),
      Change(category: .iam, action: .create, path: "spec.\(payload)", before: nil, after: .string(workflow), widening: true),
    ]
    let steps = [
      Step(id: 1, kind: .kopsUpdate, command: ["kops", "update", "cluster", hostile, "--state", "s3://x" + fence]),
      Step(id: 2, kind: .rollingUpdate, command: ["kops", "rolling-update", "--instance-group", hostile], disruptive: true),
    ]
    return Plan(environments: [
      EnvironmentPlan(
        name: "dev", cluster: "dev.k8s.corp.local" + payload, prior: PriorState(serial: 3, lineage: "abc"), desiredDigest: "sha256:x",
        changes: changes, steps: steps, owed: [.note(payload + workflow)])
    ])
  }

  static var drift: DriftReport {
    let hostile = payload + workflow
    return DriftReport(environments: [
      EnvironmentDrift(
        name: "dev", cluster: "dev" + payload, recorded: PriorState(serial: 2, lineage: "l"),
        drift: [DriftItem(path: "instancegroup[\(hostile)].spec.maxSize", recorded: .int(1), live: .string(fence + hostile))],
        pending: [PendingItem(category: "spec", action: "update", path: hostile, note: payload)],
        gateway: GatewayCheck(id: "igw-" + payload, vpc: "vpc-" + workflow, expected: .detached, actual: .attached),
        ignored: [IgnoredField(path: hostile, rule: fence, reason: payload, until: nil, expired: true)],
        error: "kops said: " + hostile, notes: [payload]),
      EnvironmentDrift(name: "prod", cluster: nil, error: workflow),
    ])
  }

  struct Structure: Decodable {
    var headings: [String]
    var images: Int
    var links: [String]
    var tags: [String]
    var comments: Int
    var unclosedComment: Bool
    var mentions: [String]
  }

  /// The markdown's structure as cmark-gfm renders it.
  static func structure(_ markdown: String) throws -> Structure {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", packageRoot + "/scripts/markdown-structure.py"]
    let input = Pipe()
    let output = Pipe()
    let errors = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    input.fileHandleForWriting.write(Data(markdown.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "markdown-structure.py failed (is cmarkgfm installed? scripts/test installs it): \(stderr)")
    return try JSONDecoder().decode(Structure.self, from: data)
  }

  static let allowedTags: Set<String> = [
    "p", "details", "summary", "b", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h2",
  ]

  func expectSafe(_ markdown: String, heading: String) throws {
    let s = try Self.structure(markdown)
    #expect(s.headings == [heading], "forged headings: \(s.headings)")
    #expect(s.images == 0)
    #expect(s.links.isEmpty, "links: \(s.links)")
    #expect(!s.unclosedComment)
    #expect(s.comments == 0)
    #expect(s.mentions.isEmpty, "mentions: \(s.mentions)")
    #expect(Set(s.tags).isSubset(of: Self.allowedTags), "tags: \(s.tags)")
    #expect(!markdown.contains("\u{1B}"))
  }

  func expectSafeText(_ text: String) {
    #expect(!text.contains("\u{1B}"), "an ANSI escape reached the text")
    #expect(!text.unicodeScalars.contains { $0.value == 0x07 || $0.value == 0x202E })
    for line in text.split(separator: "\n") {
      #expect(!line.drop { $0 == " " }.hasPrefix("::"), "a workflow command starts a line: \(line)")
    }
  }

  @Test func planMarkdownKeepsItsStructure() throws {
    let parts = PlanRenderer().markdown(Self.plan)
    #expect(parts.count == 1)
    try expectSafe(parts.joined(), heading: "hk plan")
    // What was escaped is still there to read.
    #expect(parts.joined().contains("octocat"))
  }

  @Test func driftMarkdownKeepsItsStructure() throws {
    try expectSafe(DriftRenderer().markdown(Self.drift).joined(), heading: "hk drift")
  }

  @Test func textHasNoWorkflowCommandsOrEscapes() {
    expectSafeText(PlanRenderer(color: false).text(Self.plan))
    expectSafeText(DriftRenderer(color: false).text(Self.drift))
    // With colour, hk's own escapes only: every ESC starts one of hk's SGR codes.
    let coloured = PlanRenderer(color: true).text(Self.plan) + DriftRenderer(color: true).text(Self.drift)
    let escapes = coloured.components(separatedBy: "\u{1B}").dropFirst()
    #expect(escapes.allSatisfy { $0.hasPrefix("[0m") || $0.hasPrefix("[1m") || $0.hasPrefix("[3") })
  }

  @Test func jsonEscapesControlCharacters() throws {
    let json = PlanJSON.render(Self.plan)
    #expect(!json.contains("\u{1B}"))
    #expect(try JSONValue.parse(json)["environments"]?.arrayValue?.count == 1)
  }

  @Test(arguments: [
    ("a\nb", "a\\nb"), ("\u{1B}[31mred", "\\x1b[31mred"), ("::error::x", "\\::error::x"), ("  ::warning", "\\  ::warning"),
    ("ok \u{202E}cba", "ok \\u{202e}cba"), ("fd00::/8", "fd00::/8"), ("plain", "plain"),
  ])
  func textEscaping(input: String, expected: String) {
    #expect(OutputEscaping.text(input) == expected)
  }

  @Test func markdownEscaping() {
    #expect(
      OutputEscaping.markdown("<!-- @me ![x](y) `c` *b*") == "&#60;&#33;-- @\u{2060}me &#33;&#91;x&#93;&#40;y&#41; &#96;c&#96; &#42;b&#42;")
    // `_` inside a word cannot make emphasis and stays; at a word's edge it is escaped.
    #expect(OutputEscaping.markdown("AWS_REGION _x_ a__b é_1 end_") == "AWS_REGION &#95;x&#95; a&#95;&#95;b é_1 end&#95;")
    #expect(OutputEscaping.codeSpan("a`b\nc") == "a'b\\nc")
    #expect(OutputEscaping.fenced("```x~~~") == "'''x---")
  }
}
