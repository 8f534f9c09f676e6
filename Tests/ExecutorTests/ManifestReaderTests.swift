import Config
import Foundation
import HKTestSupport
import Model
import Testing

@testable import fake_kops

/// fake-kops reads YAML with its own reader on libyaml (issue 14: a bug in hk's parser must not
/// hide in the double that checks hk's output). The two readers are independent code, so they
/// are checked against each other: the same trees (keys in order, text, style, tag, position)
/// and the same refusals at the same line.
@Suite struct ManifestReaderTests {
  /// Every node as one line: position, kind, and for scalars the text, style and tag.
  static func outline(_ node: YAMLNode, _ indent: String = "", into out: inout [String]) {
    let at = "\(node.mark.line):\(node.mark.column)"
    switch node.content {
    case .scalar(let s): out.append("\(indent)\(at) scalar \(s.style) \(s.tag ?? "-") \(s.text.debugDescription)")
    case .sequence(let items):
      out.append("\(indent)\(at) sequence")
      for item in items { outline(item, indent + "  ", into: &out) }
    case .mapping(let pairs):
      out.append("\(indent)\(at) mapping")
      for p in pairs {
        out.append("\(indent)  key \(p.keyMark.line):\(p.keyMark.column) \(p.key.debugDescription)")
        outline(p.value, indent + "    ", into: &out)
      }
    }
  }

  static func outline(_ docs: [YAMLNode]) -> [String] {
    var out: [String] = []
    for (i, d) in docs.enumerated() {
      out.append("--- \(i)")
      if !d.isNull { outline(d, into: &out) }
    }
    return out
  }

  /// The repository's own manifests, and YAML that exercises what kops manifests may hold.
  static func corpus() throws -> [(String, String)] {
    var out: [(String, String)] = []
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("environments").path
    let files = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
    for file in files.sorted() where file.hasSuffix(".yaml") {
      out.append((file, try String(contentsOfFile: root + "/" + file, encoding: .utf8)))
    }
    out += [
      ("anchors", "base: &b {a: 1, b: [x, \"y\"]}\nuse: *b\nlist:\n- &s 'one'\n- *s\n"),
      ("tags and styles", "a: !!str 3128\nb: \"3128\"\nc: |\n  line one\n  line two\nd: >-\n  folded\n  text\ne: ~\nf: 0x1F\n"),
      ("documents", "---\nkind: Cluster\n---\n# only a comment\n---\nkind: InstanceGroup\n...\n"),
      ("flow and unicode", "name: \"ノード\"\nflow: {k: [1, 2, {x: y}]}\nempty: {}\nnone: []\n"),
    ]
    return out
  }

  @Test func bothReadersBuildTheSameTrees() throws {
    let cases = try Self.corpus()
    #expect(cases.count > 10)
    for (name, text) in cases {
      let hk = try YAMLParser.parse(text, file: name)
      let double = try ManifestReader.documents(text, file: name)
      #expect(Self.outline(double) == Self.outline(hk), "\(name)")
    }
  }

  @Test(arguments: [
    "a: [1, 2\nb: 3\n", "a: b: c\n", "- a\nb: c\n", "a: 1\na: 2\n", "? [a]\n: b\n", "a: *nothing\n", "a: \"x\u{0}y\"\n",
    "k: v\n\t- bad\n",
  ])
  func bothReadersRefuseAtTheSameLine(text: String) throws {
    var hk: (line: Int?, message: String)? = nil
    do { _ = try YAMLParser.parse(text, file: "bad.yaml") } catch {
      let d = error.diagnostics.first
      let message = d?.message ?? ""
      hk = (d?.location?.line, message.hasPrefix("YAML syntax: ") ? String(message.dropFirst(13)) : message)
    }
    var double: (line: Int?, message: String)? = nil
    do { _ = try ManifestReader.documents(text, file: "bad.yaml") } catch { double = (error.line, error.problem) }
    #expect(hk != nil, "hk's parser accepted \(text.debugDescription)")
    #expect(double?.line == hk?.line, "\(text.debugDescription)")
    #expect(double?.message == hk?.message, "\(text.debugDescription)")
  }

  /// No source of the double reaches for hk's loader.
  @Test func fakeKopsNeverCallsHksParser() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources/fake-kops").path
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".swift") }
    #expect(!files.isEmpty)
    for file in files {
      let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
      #expect(!text.contains("YAMLParser.parse"), "\(file) parses with hk's YAMLParser")
    }
  }
}
