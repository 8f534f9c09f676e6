import Foundation
import GRDB
import HKTestSupport
import Model
import Testing

@testable import Store

/// The revision rows a plan reads by column index (``RevisionRow/init(row:columns:)``, with
/// ``RevisionJSON`` for the JSON columns) against GRDB's `Codable` decoding, their reference:
/// the same values for every row it takes, and the `Codable` decoding (so its errors) for every
/// row it does not.
@Suite struct RevisionColumnsTests {
  /// Strings the recorded columns may hold: YAML, escapes, every control character, non-ASCII.
  static let tricky: [String] = [
    "", "a", "kind: Cluster\nmetadata:\n  name: x\n", "say \"hi\"", #"back\slash"#, "path/with/slashes", "tab\there",
    "cr\r\nlf", "\u{08}\u{0C}", "\u{00}nul", "\u{01}\u{1F}\u{7F}", "é ü ß", "日本語", "emoji 🚀", "e\u{301}",
    "\u{2028}\u{2029}", "\u{FEFF}bom", "\u{FFFF}", "}]\",:[{", "   spaced   ", String(repeating: "long ", count: 500),
  ]

  static func generatedStrings(_ rng: inout SplitMix64) -> [String] {
    var out: [String] = []
    for _ in 0..<rng.below(5) {
      var s = ""
      for _ in 0...rng.below(3) { s += rng.pick(tricky) }
      out.append(s)
    }
    return out
  }

  @Test func theJSONReaderReadsWhatJSONDecoderReadsOrDeclines() throws {
    var rng = SplitMix64(seed: 0x15_2026)
    var inputs: [[UInt8]] = []
    for _ in 0..<3000 {
      let strings = Self.generatedStrings(&rng)
      let map = Dictionary(
        strings.enumerated().map { ("k\($0.offset)\($0.element.prefix(3))", $0.element) }, uniquingKeysWith: { a, _ in a })
      for escaping in [false, true] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = escaping ? [.sortedKeys] : [.sortedKeys, .withoutEscapingSlashes]
        inputs.append(Array(try encoder.encode(strings)))
        inputs.append(Array(try encoder.encode(map)))
      }
    }
    // Hand-written and damaged JSON: whitespace, \u escapes, raw control characters, invalid
    // UTF-8, repeated keys, wrong types, truncations and stray bytes.
    let written: [String] = [
      "[]", " [ ] ", "[\"a\" , \"b\"]\n", "\t[\"a\"]\r\n", "[\"\\u0041\"]", "[\"\\ud83d\\ude80\"]", "[\"a\tb\"]", "[\"a\nb\"]",
      "[\"\\x\"]", "[\"a\",]", "[,\"a\"]", "[\"a\"", "[\"a]", "[1]", "[null]", "[\"a\"] x", "[\"a\"][]", "{}", " { } ",
      "{\"a\":\"b\",\"a\":\"c\"}", "{\"a\":1}", "{\"a\":\"b\",}", "{\"a\" : \"b\" , \"c\":\"d\"}", "{\"a\"}", "\"a\"", "", " ",
      "[\"\\/\\\\\\\"\\b\\f\\n\\r\\t\"]", "\u{FEFF}[]", "[\"\u{00}\"]", "[\"é\"]",
    ]
    inputs += written.map { Array($0.utf8) }
    inputs += [[0x5B, 0x22, 0xFF, 0x22, 0x5D], [0x5B, 0x22, 0xC3, 0x22, 0x5D], [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D]]
    for i in inputs.indices where i % 7 == 0 {
      var damaged = inputs[i]
      guard !damaged.isEmpty else { continue }
      damaged[rng.below(damaged.count)] = UInt8(truncatingIfNeeded: rng.next())
      inputs.append(damaged)
      inputs.append(Array(inputs[i].prefix(rng.below(inputs[i].count))))
    }

    var read = 0
    for bytes in inputs {
      let fast = bytes.withUnsafeBytes { RevisionJSON.strings($0) }
      let reference = try? JSONDecoder().decode([String].self, from: Data(bytes))
      if let fast {
        read += 1
        let same = reference.map { r in r.map { Array($0.utf8) } == fast.map { Array($0.utf8) } } ?? false
        #expect(same, "\(String(decoding: bytes, as: UTF8.self).debugDescription): \(fast) vs \(String(describing: reference))")
      }
      let fastMap = bytes.withUnsafeBytes { RevisionJSON.stringMap($0) }
      let referenceMap = try? JSONDecoder().decode([String: String].self, from: Data(bytes))
      if let fastMap {
        read += 1
        let same =
          referenceMap.map { r in
            r.count == fastMap.count && r.allSatisfy { k, v in fastMap[k].map { Array($0.utf8) == Array(v.utf8) } ?? false }
          } ?? false
        #expect(same, "\(String(decoding: bytes, as: UTF8.self).debugDescription)")
      }
    }
    // It takes what an encoder writes (control characters aside, which `\u` escapes).
    #expect(read > 6000)
    let plain = try JSONEncoder().encode(["kind: Cluster\n  \"q\" \\ / é 🚀\t\r"])
    #expect(plain.withUnsafeBytes { RevisionJSON.strings($0) } == ["kind: Cluster\n  \"q\" \\ / é 🚀\t\r"])
  }

  /// The draft's every stored property is read by column (``RevisionRow/draftFieldsRead``).
  @Test func everyRecordedFieldIsReadByColumn() {
    let fields = Mirror(reflecting: draft()).children.count
    #expect(fields == RevisionRow.draftFieldsRead, "a new RecordedStateDraft field: read it in RevisionRow.init(row:columns:)")
  }

  /// Revisions as `recorded(_:)` reads them (by column) and as the `Codable` decoding does.
  @Test func rowsReadByColumnAreTheDecodedRows() throws {
    let store = try SQLiteStateStore(inMemory: true)
    var rng = SplitMix64(seed: 15)
    var names: [String] = []
    // Rows whose JSON needs no `\u` escape (a control character other than \b \f \n \r \t).
    var plainRows = 0
    func plain(_ s: String) -> Bool { s.unicodeScalars.allSatisfy { $0.value >= 0x20 || [8, 9, 10, 12, 13].contains($0.value) } }
    for i in 0..<60 {
      let name = "env-\(i)"
      names.append(name)
      let strings = Self.generatedStrings(&rng)
      let settings: [String: String]? =
        i % 3 == 0 ? nil : Dictionary(strings.enumerated().map { ("k\($0.offset)", $0.element) }, uniquingKeysWith: { a, _ in a })
      let d = RecordedStateDraft(
        environment: name, clusterYAML: i % 5 == 0 ? "" : rng.pick(Self.tricky), instanceGroupsYAML: strings,
        cloudUpdated: i % 2 == 0, pendingRolls: Array(strings.prefix(2)), igwAttached: i % 4 == 0, validated: i % 3 != 1,
        kopsVersion: i % 2 == 0 ? nil : "1.28.\(i)", desiredDigest: i % 3 == 0 ? nil : rng.pick(Self.tricky),
        gitCommit: i % 4 == 0 ? nil : "abc\(i)-dirty", updatedByKops: i % 5 == 0 ? nil : "1.29.0", settings: settings)
      if i != 1 && (strings + (settings.map { Array($0.keys) + Array($0.values) } ?? [])).allSatisfy(plain) { plainRows += 1 }
      let written = try store.record(
        d, expectedPrior: nil, actor: tester, note: rng.pick(Self.tricky), planID: i % 2 == 0 ? nil : "p\(i)",
        newLineage: false)
      if i % 6 == 0 {
        var next = d
        next.cloudUpdated.toggle()
        try store.record(
          next, expectedPrior: PriorState(serial: written.serial, lineage: written.lineage), actor: tester, note: "second")
      }
    }
    // Rows hk's encoder did not write: other whitespace, \u escapes, an unescaped slash.
    try store.executeForTesting(
      #"UPDATE "revision" SET "instanceGroupsYAML" = ' [ "a\/b" , "\u00e9" ] ', "settings" = '{ "k" : "v" }' WHERE "environment" = 'env-1'"#
    )
    let decoded = try store.read { db in try RevisionRow.fetchAll(db, sql: Self.current) }
    #expect(decoded.count == names.count)
    let byColumn = try store.read { db in try RevisionRow.fetchAllByColumn(db, sql: Self.current) }
    #expect(byColumn.map(\.state) == decoded.map(\.state))
    #expect(byColumn.map(\.summary) == decoded.map(\.summary))
    let fast = try store.read { db in
      let statement = try db.makeStatement(sql: Self.current)
      guard let columns = RevisionRow.Columns(statement) else { throw StoreTestError("a column is missing") }
      let rows = try Row.fetchCursor(statement)
      var count = 0
      while let row = try rows.next() {
        if RevisionRow(row: row, columns: columns) != nil { count += 1 }
      }
      return count
    }
    // Every row whose JSON has no `\u` escape is read by column (the one rewritten above has).
    #expect(fast == plainRows && plainRows > 20, "\(fast) of \(plainRows)")
    for many in [names, Array(names.prefix(7)) + ["missing"]] {
      let recorded = try store.recorded(many)
      #expect(
        recorded == Dictionary(uniqueKeysWithValues: decoded.filter { many.contains($0.environment) }.map { ($0.environment, $0.state) }))
    }
  }

  static let current =
    #"SELECT r.* FROM "revision" r JOIN "environment" e ON r."environment" = e."name" AND r."serial" = e."currentSerial" ORDER BY r."environment""#

  /// A damaged row fails as the `Codable` decoding makes it fail (the same error).
  @Test(arguments: [
    #""instanceGroupsYAML" = '[1]'"#, #""instanceGroupsYAML" = 'not json'"#, #""instanceGroupsYAML" = 5"#,
    #""pendingRolls" = x'5b5d'"#, #""settings" = '{"a":1}'"#, #""settings" = '[]'"#, #""createdAt" = x'00ff'"#,
    #""createdAt" = 'not a date'"#, #""cloudUpdated" = 'yes'"#, #""serial" = 'one'"#, #""clusterYAML" = 12"#,
    #""kopsVersion" = x'ff'"#, #""settings" = '{"a":"b","a":"c"}'"#,
  ])
  func aDamagedRowFailsAsTheDecodedRowDoes(_ damage: String) throws {
    let store = try SQLiteStateStore(inMemory: true)
    try store.record(draft(), expectedPrior: nil, actor: tester, note: "n")
    try store.executeForTesting(#"PRAGMA ignore_check_constraints = 1"#)
    try store.executeForTesting(#"UPDATE "revision" SET "# + damage)
    let reference: Result<[RecordedState], any Error> = Result {
      try store.read { db in try RevisionRow.fetchAll(db, sql: Self.current).map(\.state) }
    }
    let read: Result<[RecordedState], any Error> = Result { Array(try store.recorded(["prod"]).values) }
    switch (read, reference) {
    case (.success(let a), .success(let b)): #expect(a == b, "\(damage)")
    case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", "\(damage)")
    default: Issue.record("\(damage): \(read) vs \(reference)")
    }
  }
}
