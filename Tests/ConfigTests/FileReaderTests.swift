import Config
import Foundation
import HKTestSupport
import Model
import Testing

/// FileReader: the bytes of a regular file, or a diagnostic naming the file; never blocks and
/// never reads past the limit.
@Suite struct FileReaderTests {
  @Test func readsARegularFileExactly() throws {
    let dir = try TemporaryDirectory(prefix: "hk-reader")
    let path = dir.file("a.yaml")
    let bytes = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    #expect(try FileReader.read(path) == bytes)
    try Data().write(to: URL(fileURLWithPath: dir.file("empty.yaml")))
    #expect(try FileReader.read(dir.file("empty.yaml")) == [])
    // Through a symbolic link too.
    try FileManager.default.createSymbolicLink(atPath: dir.file("link.yaml"), withDestinationPath: path)
    #expect(try FileReader.read(dir.file("link.yaml")) == bytes)
  }

  @Test func refusesWhatIsNotAReadableRegularFileUnderTheLimit() throws {
    let dir = try TemporaryDirectory(prefix: "hk-reader")
    func problem(_ path: String, limit: Int = 1 << 20) -> Diagnostic? {
      do {
        _ = try FileReader.read(path, limit: limit)
        return nil
      } catch {
        return error.diagnostics.first
      }
    }
    let missing = problem(dir.file("missing.yaml"))
    #expect(missing?.rule == "file-missing" && missing?.message.contains("not found") == true)
    #expect(missing?.location?.file == dir.file("missing.yaml"))
    #expect(problem(dir.file("missing/below.yaml"))?.message.contains("not found") == true)
    #expect(problem(dir.path)?.message.contains("is a directory") == true)

    // A FIFO without a writer: refused at once (opening it must not wait for a writer).
    let fifo = dir.file("pipe.yaml")
    #expect(mkfifo(fifo, 0o600) == 0)
    #expect(problem(fifo)?.message.contains("not a regular file") == true)
    #expect(problem("/dev/zero")?.message.contains("not a regular file") == true)

    let big = dir.file("big.yaml")
    try Data(repeating: 0x61, count: 2000).write(to: URL(fileURLWithPath: big))
    let over = problem(big, limit: 1999)
    #expect(over?.rule == "yaml-size" && over?.message.contains("2000 bytes") == true)
    #expect(problem(big, limit: 2000) == nil)
  }
}
