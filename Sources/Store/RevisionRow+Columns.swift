import Foundation
import GRDB
import Model

/// Revision rows read by column index, for the many rows a plan reads at once.
///
/// ``RevisionRow``'s `Codable` decoding looks every column up by name in every row and decodes
/// the JSON columns through `JSONDecoder`: for 500 revisions that was ≈ 3 % of `hk plan`'s CPU
/// on the recorded workload, almost all of it the decoding machinery. Here the columns are found
/// once per statement and read with GRDB's own conversions (the ones its `Codable` decoder
/// applies to a column of that type); the JSON columns go through ``RevisionJSON``, which reads
/// only the plain JSON hk writes. Anything else in a row (a value of another type, NULL where
/// none is allowed, JSON that reader does not take, a missing column) sends that row through
/// the `Codable` decoding, so a damaged row fails exactly as it did, with the same error.
extension RevisionRow {
  /// Where a revision's columns are in a statement's rows.
  struct Columns {
    let environment: Int, clusterYAML: Int, instanceGroupsYAML: Int, cloudUpdated: Int, pendingRolls: Int
    let igwAttached: Int, validated: Int, kopsVersion: Int, updatedByKops: Int, desiredDigest: Int
    let gitCommit: Int, settings: Int
    let serial: Int, lineage: Int, createdAt: Int, createdBy: Int, command: Int, planID: Int, note: Int

    /// Nil when a column is missing (the `Codable` decoding then says which).
    init?(_ statement: Statement) {
      func at(_ name: String) -> Int? { statement.index(ofColumn: name) }
      guard let environment = at("environment"), let clusterYAML = at("clusterYAML"),
        let instanceGroupsYAML = at("instanceGroupsYAML"), let cloudUpdated = at("cloudUpdated"),
        let pendingRolls = at("pendingRolls"), let igwAttached = at("igwAttached"), let validated = at("validated"),
        let kopsVersion = at("kopsVersion"), let updatedByKops = at("updatedByKops"), let desiredDigest = at("desiredDigest"),
        let gitCommit = at("gitCommit"), let settings = at("settings"), let serial = at("serial"), let lineage = at("lineage"),
        let createdAt = at("createdAt"), let createdBy = at("createdBy"), let command = at("command"), let planID = at("planID"),
        let note = at("note")
      else { return nil }
      self.environment = environment
      self.clusterYAML = clusterYAML
      self.instanceGroupsYAML = instanceGroupsYAML
      self.cloudUpdated = cloudUpdated
      self.pendingRolls = pendingRolls
      self.igwAttached = igwAttached
      self.validated = validated
      self.kopsVersion = kopsVersion
      self.updatedByKops = updatedByKops
      self.desiredDigest = desiredDigest
      self.gitCommit = gitCommit
      self.settings = settings
      self.serial = serial
      self.lineage = lineage
      self.createdAt = createdAt
      self.createdBy = createdBy
      self.command = command
      self.planID = planID
      self.note = note
    }
  }

  /// The number of ``Model/RecordedStateDraft`` properties ``init(row:columns:)`` reads: a test
  /// compares it with the draft's stored properties, so a new recorded field is not silently
  /// left at its default here.
  static let draftFieldsRead = 12

  /// The row read by column index; nil when any column holds something the `Codable`
  /// decoding would have to judge (the caller then decodes the row that way).
  init?(row: Row, columns c: Columns) {
    do {
      guard let instanceGroups = try Self.json(row, c.instanceGroupsYAML, RevisionJSON.strings),
        let pendingRolls = try Self.json(row, c.pendingRolls, RevisionJSON.strings)
      else { return nil }
      var settings: [String: String]? = nil
      if !row.hasNull(atIndex: c.settings) {
        guard let map = try Self.json(row, c.settings, RevisionJSON.stringMap) else { return nil }
        settings = map
      }
      draft = RecordedStateDraft(
        environment: try row.decode(String.self, atIndex: c.environment),
        clusterYAML: try row.decode(String.self, atIndex: c.clusterYAML), instanceGroupsYAML: instanceGroups,
        cloudUpdated: try row.decode(Bool.self, atIndex: c.cloudUpdated), pendingRolls: pendingRolls,
        igwAttached: try row.decode(Bool.self, atIndex: c.igwAttached), validated: try row.decode(Bool.self, atIndex: c.validated),
        kopsVersion: try row.decode(String?.self, atIndex: c.kopsVersion),
        desiredDigest: try row.decode(String?.self, atIndex: c.desiredDigest),
        gitCommit: try row.decode(String?.self, atIndex: c.gitCommit),
        updatedByKops: try row.decode(String?.self, atIndex: c.updatedByKops), settings: settings)
      serial = try row.decode(Int64.self, atIndex: c.serial)
      lineage = try row.decode(String.self, atIndex: c.lineage)
      createdAt = try row.decode(Date.self, atIndex: c.createdAt)
      createdBy = try row.decode(String.self, atIndex: c.createdBy)
      command = try row.decode(String.self, atIndex: c.command)
      planID = try row.decode(String?.self, atIndex: c.planID)
      note = try row.decode(String.self, atIndex: c.note)
    } catch {
      return nil
    }
  }

  /// A JSON column's bytes (as the `Codable` decoding reads them) through `read`; nil for NULL.
  private static func json<T>(_ row: Row, _ index: Int, _ read: (UnsafeRawBufferPointer) -> T?) throws -> T? {
    try row.withUnsafeData(atIndex: index) { data in
      guard let data else { return nil }
      return data.withUnsafeBytes(read)
    }
  }

  /// Every row of `sql` (a `SELECT` of whole revision rows), read by column index where the
  /// row allows it, else through the `Codable` decoding.
  static func fetchAllByColumn(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws
    -> [RevisionRow]
  {
    let statement = try db.makeStatement(sql: sql)
    let columns = Columns(statement)
    let rows = try Row.fetchCursor(statement, arguments: arguments)
    var out: [RevisionRow] = []
    while let row = try rows.next() {
      if let columns, let fast = RevisionRow(row: row, columns: columns) {
        out.append(fast)
      } else {
        out.append(try RevisionRow(row: row))
      }
    }
    return out
  }
}

/// The JSON of a revision's array and settings columns, read without `JSONDecoder` when it is
/// the plain JSON an encoder writes: an array of strings, or an object of string values with no
/// repeated key; JSON whitespace between tokens; strings of valid UTF-8 with no control
/// character, escaped only by `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r` or `\t`. Anything else
/// (a `\u` escape included) is nil, never an error: the caller then decodes with `JSONDecoder`,
/// which decides. What is read is what `JSONDecoder` reads from the same bytes (a differential
/// test compares them).
enum RevisionJSON {
  /// A JSON array of strings.
  static func strings(_ bytes: UnsafeRawBufferPointer) -> [String]? {
    var r = Reader(bytes.assumingMemoryBound(to: UInt8.self))
    guard r.take(UInt8(ascii: "[")) else { return nil }
    var out: [String] = []
    if r.take(UInt8(ascii: "]")) { return r.atEnd ? out : nil }
    repeat {
      guard let s = r.string() else { return nil }
      out.append(s)
    } while r.take(UInt8(ascii: ","))
    guard r.take(UInt8(ascii: "]")), r.atEnd else { return nil }
    return out
  }

  /// A JSON object whose values are strings, each key once.
  static func stringMap(_ bytes: UnsafeRawBufferPointer) -> [String: String]? {
    var r = Reader(bytes.assumingMemoryBound(to: UInt8.self))
    guard r.take(UInt8(ascii: "{")) else { return nil }
    var out: [String: String] = [:]
    if r.take(UInt8(ascii: "}")) { return r.atEnd ? out : nil }
    repeat {
      guard let key = r.string(), r.take(UInt8(ascii: ":")), let value = r.string(), out.updateValue(value, forKey: key) == nil
      else { return nil }
    } while r.take(UInt8(ascii: ","))
    guard r.take(UInt8(ascii: "}")), r.atEnd else { return nil }
    return out
  }

  private struct Reader {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func skipSpace() {
      while i < bytes.count {
        switch bytes[i] {
        case 0x20, 0x0A, 0x0D, 0x09: i += 1
        default: return
        }
      }
    }

    /// Whether only whitespace is left.
    var atEnd: Bool {
      mutating get {
        skipSpace()
        return i == bytes.count
      }
    }

    /// Takes `byte` after any whitespace.
    mutating func take(_ byte: UInt8) -> Bool {
      skipSpace()
      guard i < bytes.count, bytes[i] == byte else { return false }
      i += 1
      return true
    }

    /// A string after any whitespace; nil for anything but the plain strings above.
    mutating func string() -> String? {
      skipSpace()
      guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
      i += 1
      let start = i
      // Most strings have no escape: their bytes are the string's.
      while i < bytes.count {
        let c = bytes[i]
        if c == UInt8(ascii: "\"") {
          defer { i += 1 }
          return String(validating: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        }
        if c == UInt8(ascii: "\\") || c < 0x20 { break }
        i += 1
      }
      // Escapes: find the closing quote first (an escaped byte is never it), then write the
      // string in place, the runs between escapes copied whole; it is no longer than its bytes.
      var end = i
      while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1 }
      guard end < bytes.count, let source = bytes.baseAddress else { return nil }
      var refused = false
      var ascii = true
      let firstEscape = i
      let text = String(unsafeUninitializedCapacity: end - start) { out in
        guard let target = out.baseAddress else {
          refused = true
          return 0
        }
        var n = 0
        var run = start
        var k = firstEscape
        func copyRun(to upTo: Int) {
          (target + n).initialize(from: source + run, count: upTo - run)
          n += upTo - run
        }
        while k < end {
          let c = bytes[k]
          if c == UInt8(ascii: "\\") {
            copyRun(to: k)
            // The byte after a backslash is before `end` (the scan above stepped over it).
            let e: UInt8
            switch bytes[k + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): e = bytes[k + 1]
            case UInt8(ascii: "b"): e = 0x08
            case UInt8(ascii: "f"): e = 0x0C
            case UInt8(ascii: "n"): e = 0x0A
            case UInt8(ascii: "r"): e = 0x0D
            case UInt8(ascii: "t"): e = 0x09
            default:
              refused = true
              return 0
            }
            target[n] = e
            n += 1
            k += 2
            run = k
          } else if c < 0x20 {
            refused = true
            return 0
          } else {
            if c >= 0x80 { ascii = false }
            k += 1
          }
        }
        copyRun(to: end)
        return n
      }
      guard !refused else { return nil }
      i = end + 1
      // That initializer repairs invalid UTF-8, which must decline instead. Escapes are ASCII
      // for ASCII, so the text is valid exactly when its bytes are.
      if !ascii || !Self.isASCII(bytes, start..<firstEscape) {
        guard String(validating: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) != nil else { return nil }
      }
      return text
    }

    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
      var any: UInt8 = 0
      for k in range { any |= bytes[k] }
      return any < 0x80
    }
  }
}
