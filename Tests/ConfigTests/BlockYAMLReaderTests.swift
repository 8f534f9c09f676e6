import Foundation
import HKTestSupport
import Model
import Testing

@testable import Config

/// ``BlockYAMLReader`` against libyaml (``YAMLParser/parseWithLibyaml(_:file:limits:)``): where
/// the reader answers, its trees must be libyaml's to the last mark and quoting style, and
/// libyaml must accept the text; where it cannot be certain it must answer nil.
@Suite struct BlockYAMLReaderTests {
  /// The reader's answer for `bytes`, checked against libyaml's; true when the reader answered.
  @discardableResult
  static func compare(_ bytes: [UInt8], file: String = "t.yaml", limits: YAMLLimits = .default, _ what: String) -> Bool {
    guard let fast = bytes.withUnsafeBufferPointer({ BlockYAMLReader.read($0, file: file, limits: limits) }) else { return false }
    let reference: [YAMLNode]
    do {
      reference = try YAMLParser.parseWithLibyaml(bytes, file: file, limits: limits)
    } catch {
      Issue.record("\(what): the reader read what libyaml refuses (\(error)):\n\(String(decoding: bytes, as: UTF8.self))")
      return true
    }
    if let difference = YAMLTrees.difference(fast, reference) {
      Issue.record("\(what): \(difference) (the reader's, then libyaml's)\n\(String(decoding: bytes, as: UTF8.self))")
    }
    return true
  }

  /// Every YAML file of the repository (sample environments, examples) and of kops's test tree
  /// in `../shared/kops-fixtures` when it is there.
  static func corpus() throws -> [(path: String, bytes: [UInt8])] {
    var out: [(String, [UInt8])] = []
    let roots = [packageRoot() + "/environments", packageRoot() + "/examples", KopsFixtureTests.fixturesRoot]
    for root in roots {
      guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
      for case let rel as String in walker where rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") {
        out.append((root + "/" + rel, try FileReader.read(root + "/" + rel)))
      }
    }
    return out.sorted { $0.0 < $1.0 }
  }

  @Test func readsTheSampleEnvironmentsAsLibyamlDoes() throws {
    let files = try Self.corpus().filter { $0.path.contains("/environments/") }
    #expect(files.count >= 10)
    var read = 0
    for f in files where Self.compare(f.bytes, file: f.path, f.path) { read += 1 }
    // The samples are plain block YAML and literal block scalars (the IAM policies): all read here.
    #expect(read == files.count, "the reader answered for \(read) of \(files.count) sample files")
  }

  @Test func readsKopsFixturesAndExamplesAsLibyamlDoes() throws {
    var read = 0
    let files = try Self.corpus()
    for f in files where Self.compare(f.bytes, file: f.path, f.path) { read += 1 }
    if FileManager.default.fileExists(atPath: KopsFixtureTests.fixturesRoot) {
      #expect(read >= 30, "the reader answered for \(read) of \(files.count) files")
    }
  }

  /// Emitted trees of random values (hk's emitter quotes what needs it): whatever the reader
  /// answers is libyaml's.
  @Test func readsEmittedTreesAsLibyamlDoes() {
    var g = TrickyValues.Generator(seed: 0x00B1_0C4A)
    var read = 0
    for i in 0..<600 {
      let value = g.value(depth: 4)
      let text = YAMLEmitter.emit(json: .object([.init("a", value), .init("b", g.value(depth: 2))]))
      if Self.compare(Array(text.utf8), "emitted tree \(i)") { read += 1 }
    }
    #expect(read >= 100, "the reader answered for \(read) of 600 emitted trees")
  }

  /// Files mutated at random (a byte inserted, removed or replaced with one of YAML's
  /// indicators, a line re-indented, doubled, moved or joined to the next): wherever the reader
  /// answers, its trees are libyaml's, and it never reads what libyaml refuses.
  @Test(arguments: 0..<4) func mutatedFilesReadAsLibyamlDoes(part: Int) throws {
    // Files the reader reads whole, so that most mutants stay near what it reads.
    let sources = (try Self.corpus().map(\.bytes).filter { $0.count < 12_000 } + Self.handWritten.map { Array($0.utf8) }).filter {
      $0.withUnsafeBufferPointer { BlockYAMLReader.read($0, file: "t.yaml", limits: .default) } != nil
    }
    #expect(sources.count >= 20)
    var random = SplitMix64(seed: 0x5EED_0000 + UInt64(part))
    let alphabet = Array(": -#'\"{}[],&*!|>%@`?\t\r\nxY0.".utf8) + [0xC3, 0xA9, 0x00, 0x7F]
    var read = 0
    for i in 0..<5_000 {
      var bytes = random.pick(sources)
      for _ in 0..<(1 + random.below(3)) { Self.mutate(&bytes, &random, alphabet) }
      if Self.compare(bytes, "mutant \(part)/\(i)") { read += 1 }
    }
    #expect(read >= 1_000, "the reader answered for \(read) of 5000 mutants")
  }

  /// Literal block scalars of random lines (more and less indented, blank with fewer, as many
  /// or more spaces, `#` lines, `---` and `key:` lines, with `|` or `|-`, as values and items,
  /// the file's end with or without its line feed): whatever the reader answers is libyaml's.
  @Test func literalBlocksReadAsLibyamlDoes() {
    var random = SplitMix64(seed: 0x0B10_C4)
    let pieces = ["x", "{\"a\": [1, 2]}", "# c", "---", "key: v", "- item", "a  b  ", "'q'", "|", ""]
    var read = 0
    for i in 0..<6_000 {
      let base = random.below(3)
      let header = random.pick(["|", "|-", "| # c", "|-  ", "|+", "|2", ">"])
      var text = random.below(2) == 0 ? "k:\n" + String(repeating: " ", count: base) + "- v: " : "v: "
      text = random.below(2) == 0 ? text + header : "a: 1\n" + String(repeating: " ", count: base) + "s:\n- " + header
      for _ in 0..<(1 + random.below(6)) {
        let spaces = random.below(8)
        text += "\n" + String(repeating: " ", count: spaces) + (random.below(5) == 0 ? "" : random.pick(pieces))
      }
      text += random.pick(["", "\n", "\n\n", "\nnext: 1\n", "\n  \n"])
      if Self.compare(Array(text.utf8), "literal block \(i)") { read += 1 }
    }
    #expect(read >= 300, "the reader answered for \(read) of 6000 literal blocks")
  }

  static func mutate(_ bytes: inout [UInt8], _ random: inout SplitMix64, _ alphabet: [UInt8]) {
    guard !bytes.isEmpty else {
      bytes = Array("a: b\n".utf8)
      return
    }
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    let l = random.below(lines.count)
    switch random.below(8) {
    case 0: bytes.insert(random.pick(alphabet), at: random.below(bytes.count + 1))
    case 1: bytes.remove(at: random.below(bytes.count))
    case 2: bytes[random.below(bytes.count)] = random.pick(alphabet)
    case 3:
      if random.below(2) == 0 {
        lines[l].insert(contentsOf: [UInt8](repeating: 0x20, count: 1 + random.below(3)), at: 0)
      } else {
        lines[l].removeFirst(min(lines[l].count, 1 + random.below(3)))
      }
      bytes = Array(lines.joined(separator: [0x0A]))
    case 4:
      lines.insert(lines[l], at: random.below(lines.count + 1))
      bytes = Array(lines.joined(separator: [0x0A]))
    case 5:
      let moved = lines.remove(at: l)
      lines.insert(moved, at: random.below(lines.count + 1))
      bytes = Array(lines.joined(separator: [0x0A]))
    case 6:
      if l + 1 < lines.count {
        lines[l] += [0x20] + lines.remove(at: l + 1).drop { $0 == 0x20 }
        bytes = Array(lines.joined(separator: [0x0A]))
      }
    default:
      // a value replaced with one of YAML's harder forms
      let forms = [
        "&a x", "*a", "!!str 1", "|\n  text", ">-\n  folded", "\"a\\tb\"", "'it''s'", "{a: 1, b: [x, y]}", "[a, {b: c}]",
        "a: b", "- x", "", "~", "\"\"", "''", "{ }", "[ ]", "x #c", "x#c", "\"q\" #c", "'q'x", "{a: b,}", "{a: b, a: c}", "-1", "-",
        "? x", "@x", "%x", "1:2", "http://h:1/p", "a:", "--- x", "...",
      ]
      var line = lines[l]
      if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
        line = Array(line[...colon]) + [0x20] + Array(random.pick(forms).utf8)
        lines[l] = line
        bytes = Array(lines.joined(separator: [0x0A]))
      }
    }
  }

  /// Snippets for the reader's every path: each is compared with libyaml, and those marked
  /// `read` must be answered.
  static let handWritten: [String] = [
    "policy: |\n  [\n    {\"a\": 1}\n  ]\nnext: 1\n", "a: |-\n  x\n\n  y\n\n\nb: 2\n", "- |\n  item\n- x\n",
    "a: |\n  # not a comment\n  x\n# comment\nb: 1\n", "a: |\n  x", "k:\n- a: |\n    x\n  b: 1\n", "a: | # c\n  x\n",
    "a: 1\nb: two words  # comment\nc: \"quoted # not a comment\"\nd: 'single'\n",
    "list:\n- a\n- b\nnext: x\n",
    "list:\n  - a\n  -   b\n",
    "items:\n- name: a\n  id: 1\n- name: b\n  sub:\n    x: y\n  seq:\n  - 1\n",
    "empty:\nafter: 1\nlast:\n",
    "e: # comment\n  # indented comment\nf: 1\n",
    "flow: {}\nseq: []\nmap: {region: eu-west-1, profile: p}\nlist: [a, 'b', \"c\"]\n",
    "---\na: 1\n---\nb: 2\n",
    "--- # start\n- x\n- y\n",
    "url: s3://bucket/path\ncidr: 10.0.0.0/8\nneg: -1\ndashes: --x\nhash: a#b\ncolon: a:b\n",
    "k8s.io/role/master: \"1\"\nservice.beta.kubernetes.io/aws-load-balancer-internal: 0.0.0.0/0\n",
    "  indented: root\n  second: 2\n",
    "a: 1\na: 2\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: |\n  x\n", "a: >\n  x\n", "a:\tb\n", "a: b\r\n", "a: \"x\\ny\"\n",
    "a: 'it''s'\n", "a: b\n  c\n", "a:\n  b\n", "- - a\n", "-\n  a: 1\n", "? a\n: b\n", "a: b: c\n", "a: b:\n", "%YAML 1.1\n---\na: 1\n",
    "a: 1\n...\n", "a: 1\n---\n", "---\n---\na: 1\n", "\"k\": v\n", "a b: c\n", "a: {b: {c: d}}\n", "a: [x,y]\n", "a: {b: c,}\n",
    "a: é\n", "a:  \n  - x\n b: 1\n", "a:\n    b: 1\n  c: 2\n", "a: 1\n- b\n", "- a\nb: 1\n", "",
    "# only a comment\n", "a: -\n", "a: - b\n", "a: {}x\n", "a: \"q\"x\n", "a: [a, b] # c\n", "a: 'q' # c\n",
    "a: value   \nb:    # c\nc: 1 #\n", "- \"a\"  # c\n- 'b'\n", "- a: 1\n  b:\n  - x\n  c: 2\n---\n- y\n",
    "a: {b: \"c d\", e: 'f'}\n", "a: -x\n", "a: 'a # b'\n", "a: x # c\n  # c2\nb: 1\n", "a: .5\nb: /x\nc: ~\nd: =\ne: (x)\nf: $v\n",
    "g: +1\nh: ^x\ni: <<\nj: ;x\nk: 0x1F\nl: b\"c\nm: b'c\nn: b ,c\no: b  c\np:  b\n", "a:   \n  b: 1\n",
    "a:\n- b\n-  c: 1\n   d: 2\n", "a: null\nb: true\nc: 1.5e3\nd: 2027-01-31\ne: 0o17\nf: .inf\n", "a: b\n\n\n# end\n",
    "a: b", "a:", "- a\n- b", "a:\n  - b\n  - c\n d: 1\n", "a: [\"x\", 'y', z]\nb: {c: \"\", d: ''}\n",
  ]

  /// What the reader must answer (the rest of ``handWritten`` may go either way, but compares).
  static let mustRead = Set(0..<19)

  @Test func handWrittenSnippets() {
    for (i, text) in Self.handWritten.enumerated() {
      let read = Self.compare(Array(text.utf8), "snippet \(i)")
      if Self.mustRead.contains(i) { #expect(read, "snippet \(i) was left to libyaml:\n\(text)") }
    }
  }

  /// What only libyaml decides, or reports, is left to it.
  @Test(arguments: [
    "a: 1\na: 2\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: >\n  x\n", "a:\tb\n", "a: b\r\n", "a: \"x\\ny\"\n", "a: 'it''s'\n",
    "a: |\n    deep\n  shallow\n", "a: |\n\n  x\n", "a: |+\n  x\n\n", "a: |2\n   x\n", "a: |\n  x\n   \n  y\n", "a: |\nb: 1\n",
    "a: |#c\n  x\n",
    "a: b\n  c\n", "a: b: c\n", "a: 1\n---\n", "a: é\n", "a: [x,y]\n", "{a: 1}\n", "a\n", "a: 1\n\0", "a: [a, {b: c}]\n",
  ])
  func leavesToLibyaml(_ text: String) {
    #expect(Array(text.utf8).withUnsafeBufferPointer { BlockYAMLReader.read($0, file: "t.yaml", limits: .default) } == nil)
  }

  /// A mapping of many keys reads as libyaml reads it, a duplicate among them is left to
  /// libyaml, and a large one costs no more per key than a small one (a set, not a scan, past
  /// 64 keys: a hostile file of a million keys would otherwise take minutes).
  @Test(.timeLimit(.minutes(2))) func manyKeys() {
    let keys = (0..<300).map { "key\($0): \($0)" }
    #expect(Self.compare(Array((keys.joined(separator: "\n") + "\n").utf8), "300 keys"))
    #expect(Self.compare(Array(("flow: {" + (0..<100).map { "k\($0): v" }.joined(separator: ", ") + "}\n").utf8), "100 flow keys"))
    for dup in ["key12: x", "key250: x"] {
      let text = (keys + [dup]).joined(separator: "\n") + "\n"
      #expect(Array(text.utf8).withUnsafeBufferPointer { BlockYAMLReader.read($0, file: "t", limits: .default) } == nil)
      #expect(throws: DiagnosticError.self) { try YAMLParser.parse(text, file: "t") }
    }
    // Checked by a scan, these 200 000 keys would take 2·10¹⁰ comparisons (many minutes): the
    // time limit catches that, with room for the slowest machine (a hang guard, not a speed target).
    let big = (0..<200_000).map { "k\($0): v" }.joined(separator: "\n") + "\n"
    let read = Array(big.utf8).withUnsafeBufferPointer { BlockYAMLReader.read($0, file: "t", limits: .default) }
    #expect(read?.first?.pairs?.count == 200_000)
  }

  /// The limits are libyaml's path's to report: over them, the reader answers nil.
  @Test func leavesLimitsToLibyaml() {
    let deep = (0..<6).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
    let shallow = YAMLLimits(maxBytes: 1 << 20, maxDepth: 3, maxNodes: 1000)
    #expect(Array(deep.utf8).withUnsafeBufferPointer { BlockYAMLReader.read($0, file: "t", limits: shallow) } == nil)
    let few = YAMLLimits(maxBytes: 1 << 20, maxDepth: 100, maxNodes: 5)
    #expect(Array("a: 1\nb: 2\nc: 3\n".utf8).withUnsafeBufferPointer { BlockYAMLReader.read($0, file: "t", limits: few) } == nil)
    #expect(throws: DiagnosticError.self) { try YAMLParser.parse(Array(deep.utf8), file: "t", limits: shallow) }
    #expect(Self.compare(Array(deep.utf8), "deep within the default limits"))
  }
}
