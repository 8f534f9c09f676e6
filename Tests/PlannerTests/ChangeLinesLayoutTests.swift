import Model
import Testing

@testable import Planner

/// `text(_:)` writes a created or deleted object's YAML straight into its section
/// (`appendChangeLines`): the same bytes as ``PlanRenderer/changeLines(_:)`` laid out line by line.
@Suite struct ChangeLinesLayoutTests {
  static let values: [JSONValue] = [
    .obj([("a", .int(1)), ("b", .array([.string("x"), .obj([("c", .null)])]))]),
    .obj([("script", .string("#!/bin/sh\necho hi\n\n")), ("::warning", .string("::error x")), ("e", .string("\u{1B}[31m red"))]),
    .obj([("bidi", .string("a\u{202E}b")), ("unicode", .string("日本 ünï")), ("cr", .string("a\rb"))]),
    .array([.string("  ::set-output"), .object([]), .array([])]),
    .string("line one\n  ::two\n\n\n"), .string("\n"), .string("one line"), .object([]), .int(3),
  ]

  @Test(arguments: [ChangeAction.create, .delete, .update], [false, true])
  func sameBytesAsChangeLines(action: ChangeAction, color: Bool) {
    let renderer = PlanRenderer(color: color)
    for v in Self.values {
      let c = Change(
        category: .spec, action: action, path: "spec.x", before: action == .create ? nil : v,
        after: action == .delete ? nil : v, rolls: ["nodes"])
      var bytes: [UInt8] = []
      var yaml: [UInt8] = []
      renderer.appendChangeLines(c, to: &bytes, yaml: &yaml)
      let appended = String(decoding: bytes, as: UTF8.self)
      let laidOut = renderer.changeLines(c).map { "    " + $0 + "\n" }.joined()
      #expect(appended == laidOut, "\(v)")
    }
  }
}
