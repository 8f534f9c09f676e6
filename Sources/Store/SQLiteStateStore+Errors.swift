import Foundation
import GRDB

/// Error mapping (GRDB to ``StoreError``) and the JSON columns.
extension SQLiteStateStore {
  // MARK: - Error mapping

  /// Turns a GRDB error into a ``StoreError`` that says what to do; passes others through.
  static func map(_ error: any Error, path: String) -> any Error {
    if error is RowDecodingError {
      // GRDB's description quotes the whole row (recorded YAML included) and its columns: hk
      // never prints a row (docs/SECURITY.md), so the message says only what is wrong.
      return StoreError.corrupted(path: path, detail: "a row holds a value of the wrong type")
    }
    guard let error = error as? DatabaseError else { return error }
    switch error.resultCode {
    case .SQLITE_BUSY, .SQLITE_LOCKED:
      return StoreError.busy(path: path)
    case .SQLITE_NOTADB:
      return StoreError.notADatabase(path: path)
    case .SQLITE_CORRUPT:
      return StoreError.corrupted(path: path, detail: error.message ?? "SQLITE_CORRUPT")
    case .SQLITE_READONLY, .SQLITE_PERM:
      return StoreError.unwritable(path: path, reason: error.message ?? "SQLite reports it read-only")
    case .SQLITE_CANTOPEN:
      return StoreError.unwritable(path: path, reason: error.message ?? "SQLite cannot open it")
    case .SQLITE_FULL:
      return StoreError.databaseFailure(path: path, message: "the disk is full")
    default:
      return StoreError.databaseFailure(path: path, message: error.message ?? "\(error.resultCode)")
    }
  }

  // MARK: - JSON columns

  static func json(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  func decode<T: Decodable>(_ type: T.Type, _ text: String, what: String) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
      throw StoreError.corrupted(path: location, detail: "\(what) is not valid JSON")
    }
  }

  /// The end of `text`, at most ``maximumOutputTailBytes`` UTF-8 bytes, starting at a whole character.
  static func tail(_ text: String) -> String {
    guard text.utf8.count > maximumOutputTailBytes else { return text }
    var bytes = Array(text.utf8.suffix(maximumOutputTailBytes))
    while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
    return String(decoding: bytes, as: UTF8.self)
  }
}
