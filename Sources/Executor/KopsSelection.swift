import Model

/// Which kops binary runs for an environment (docs/SECURITY.md): the operator chooses, the
/// repository does not.
///
/// In order, the first that applies wins:
/// 1. `--kops-map VERSION=PATH` (command line) for the environment's `kopsVersion`,
/// 2. `--kops PATH` (command line),
/// 3. `HK_KOPS_MAP` (`VERSION=PATH,…`) for the environment's `kopsVersion`,
/// 4. `HK_KOPS`,
/// 5. `kopsPath` in `environment.yaml` (validation keeps it an absolute path outside `--root`),
/// 6. `kops` on `PATH`.
///
/// A map key is a full version (`1.28.4`) or a minor line (`1.28`); the full version wins.
public struct KopsSelection: Sendable, Hashable {
  public var commandLine: String?
  public var commandLineMap: [String: String]
  public var environmentVariable: String?
  public var environmentMap: [String: String]
  /// Used when nothing above applies and the environment names no `kopsPath`.
  public var fallback: String

  public init(
    commandLine: String? = nil, commandLineMap: [String: String] = [:], environmentVariable: String? = nil,
    environmentMap: [String: String] = [:], fallback: String = "kops"
  ) {
    self.commandLine = commandLine
    self.commandLineMap = commandLineMap
    self.environmentVariable = environmentVariable
    self.environmentMap = environmentMap
    self.fallback = fallback
  }

  /// The executable for `settings` and where it came from (`--kops`, `HK_KOPS_MAP`, `kopsPath`, …).
  public func choose(for settings: EnvironmentSettings) -> (executable: String, source: String) {
    if let p = Self.lookup(commandLineMap, settings.kopsVersion) { return (p, "--kops-map") }
    if let p = commandLine { return (p, "--kops") }
    if let p = Self.lookup(environmentMap, settings.kopsVersion) { return (p, "HK_KOPS_MAP") }
    if let p = environmentVariable { return (p, "HK_KOPS") }
    if let p = settings.kopsPath, p.hasPrefix("/") { return (p, "kopsPath") }
    return (fallback, "PATH")
  }

  /// The executable for `settings` (``choose(for:)`` without its source).
  public func executable(for settings: EnvironmentSettings) -> String { choose(for: settings).executable }

  static func lookup(_ map: [String: String], _ version: KopsVersion) -> String? {
    map[version.description] ?? map[version.majorMinor]
  }

  /// Parses `VERSION=PATH` entries (each may hold several, comma-separated).
  ///
  /// - Throws: A message naming the first entry that is not `VERSION=/absolute/path`.
  public static func parseMap(_ entries: [String], source: String) throws(KopsSelectionError) -> [String: String] {
    var map: [String: String] = [:]
    for entry in entries.flatMap({ $0.split(separator: ",").map(String.init) }) {
      let trimmed = entry.trimmingSpaces()
      if trimmed.isEmpty { continue }
      guard let eq = trimmed.firstIndex(of: "=") else { throw KopsSelectionError(source: source, entry: trimmed) }
      let key = String(trimmed[..<eq])
      let path = String(trimmed[trimmed.index(after: eq)...])
      guard let version = KopsVersion(key), path.hasPrefix("/") else { throw KopsSelectionError(source: source, entry: trimmed) }
      let normalized = key.split(separator: ".").count == 2 ? version.majorMinor : version.description
      map[normalized] = path
    }
    return map
  }
}

/// A `--kops-map`/`HK_KOPS_MAP` entry hk cannot read.
public struct KopsSelectionError: HKError, CustomStringConvertible {
  public var source: String
  public var entry: String
  public var description: String {
    "\(source): '\(OutputEscaping.text(entry))' is not VERSION=/absolute/path (e.g. 1.28.4=/opt/kops-1.28.4/kops or 1.28=/opt/kops-1.28/kops)"
  }
  public var errorDescription: String? { description }
  public var nextStep: String { "write each \(source) entry as VERSION=/absolute/path" }
}
