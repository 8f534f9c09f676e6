import Foundation
import Model

#if canImport(Glibc)
import Glibc
private let posixRead = Glibc.read
#elseif canImport(Darwin)
import Darwin
private let posixRead = Darwin.read
#endif

/// Reads files for the loaders with the size limit checked before the bytes are read.
///
/// POSIX `open`/`fstat`/`read` rather than `FileManager`: one open and one stat per file (a
/// plan over a thousand environments reads four thousand files), and the checks are made on
/// the file that was opened, not on a path that could change in between.
public enum FileReader {
  /// The file's bytes, or a diagnostic naming the file when it is missing, unreadable, a
  /// directory, not a regular file or over `limit` bytes.
  public static func read(_ path: String, limit: Int = YAMLLimits.default.maxBytes) throws(DiagnosticError) -> [UInt8] {
    let at = Diagnostic.Location(file: path, line: 1, column: 1)
    func fail(_ message: String, _ rule: String) -> DiagnosticError {
      DiagnosticError(Diagnostic(.error, message, at: at, rule: rule))
    }
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    if fd < 0 {
      switch errno {
      case ENOENT, ENOTDIR: throw fail("file not found; create it or fix the path that names it", "file-missing")
      case EISDIR: throw fail("is a directory, expected a YAML file", "file-missing")
      default: throw fail("cannot read the file (\(String(cString: strerror(errno)))); check its permissions", "file-missing")
      }
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      throw fail("cannot read the file (\(String(cString: strerror(errno)))); check its permissions", "file-missing")
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG: break
    case S_IFDIR: throw fail("is a directory, expected a YAML file", "file-missing")
    default: throw fail("is not a regular file (a device, FIFO or socket); point hk at a YAML file", "file-missing")
    }
    let size = Int(info.st_size)
    if size > limit {
      throw fail("file is \(size) bytes, over hk's limit of \(limit); split it or remove what kops does not need", "yaml-size")
    }
    // Read until EOF (the file may have grown since fstat), never more than limit + 1 bytes.
    var bytes = [UInt8](repeating: 0, count: min(size, limit) + 1)
    var count = 0
    while true {
      if count == bytes.count {
        if count > limit { break }
        bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
      }
      let n = bytes.withUnsafeMutableBytes { buf -> Int in
        guard let base = buf.baseAddress else { return 0 }
        return posixRead(fd, base + count, buf.count - count)
      }
      if n < 0 {
        if errno == EINTR { continue }
        throw fail("cannot read the file (\(String(cString: strerror(errno)))); check its permissions", "file-missing")
      }
      if n == 0 { break }
      count += n
    }
    if count > limit {
      throw fail("file is over hk's limit of \(limit) bytes; split it or remove what kops does not need", "yaml-size")
    }
    bytes.removeLast(bytes.count - count)
    return bytes
  }

  /// The bytes of the file `name` in the directory `directory` (a descriptor), opened without
  /// following a symlink, when it is a regular file of at most `limit` bytes that reads
  /// without error; nil otherwise — a symlink, missing, a directory, a FIFO, too large, an
  /// error — and the caller then takes the path of ``read(_:limit:)``, whose diagnostics say why.
  ///
  /// The loaders' common case in three system calls and a close: `openat` (no walk from `/`, no
  /// symlink followed), `fstat` and one `read` into a buffer of the file's size plus one byte
  /// (a regular file's read comes back short only at its end).
  static func readRegularFile(in directory: Int32, _ name: String, limit: Int) -> [UInt8]? {
    let fd = openat(directory, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
    let size = Int(info.st_size)
    guard size >= 0, size <= limit else { return nil }
    // One read asks for a byte more than the file holds: it comes back short at the end. A
    // file that grew since fstat fills the buffer and takes the other path.
    var complete = true
    let bytes = [UInt8](unsafeUninitializedCapacity: size + 1) { buf, initialized in
      initialized = 0
      guard let base = buf.baseAddress else {
        complete = false
        return
      }
      while initialized < buf.count {
        let want = buf.count - initialized
        let n = posixRead(fd, base + initialized, want)
        if n < 0 {
          if errno == EINTR { continue }
          complete = false
          return
        }
        initialized += n
        if n < want { return }
      }
      complete = false
    }
    return complete && bytes.count <= limit ? bytes : nil
  }
}
