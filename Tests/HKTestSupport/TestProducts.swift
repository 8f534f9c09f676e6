import Foundation

/// A failure of the test harness itself (a missing tool or product), with what to do next.
public struct TestSupportError: Error, CustomStringConvertible, LocalizedError {
  public var description: String
  public init(_ description: String) { self.description = description }
  public var errorDescription: String? { description }
}

/// Paths of the package's built products (executables such as `fake-kops` and `hk`).
public enum TestProducts {
  /// The directory SwiftPM put the products in: the directory of the running test binary
  /// (`/proc/self/exe` on Linux; the parent of the `.xctest` bundle on macOS).
  public static func directory() -> String? {
    var candidates: [String] = []
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      candidates.append(exe)
    }
    candidates.append(contentsOf: Bundle.allBundles.map(\.bundlePath))
    candidates.append(CommandLine.arguments.first ?? "")
    for path in candidates where !path.isEmpty {
      var url = URL(fileURLWithPath: path)
      if let range = path.range(of: ".xctest") {
        url = URL(fileURLWithPath: String(path[..<range.upperBound]))
      }
      let dir = url.deletingLastPathComponent().path
      if FileManager.default.fileExists(atPath: dir) && url.path.contains(".build") { return dir }
    }
    if let first = candidates.first, !first.isEmpty {
      return URL(fileURLWithPath: first).deletingLastPathComponent().path
    }
    return nil
  }

  /// The path of the built executable product `name`, next to the test binary.
  ///
  /// - Throws: ``TestSupportError`` naming the expected path when the product was not built
  ///   (add it to the test target's dependencies in Package.swift so `swift test` builds it).
  public static func executable(_ name: String) throws -> String {
    guard let dir = directory() else {
      throw TestSupportError("cannot find the directory of the test binary to locate the product \(name)")
    }
    let path = dir + "/" + name
    guard FileManager.default.isExecutableFile(atPath: path) else {
      throw TestSupportError(
        "the product \(name) was not built at \(path); add \"\(name)\" to this test target's dependencies in Package.swift (or run `swift build --product \(name)` with the same --scratch-path)"
      )
    }
    return path
  }
}
