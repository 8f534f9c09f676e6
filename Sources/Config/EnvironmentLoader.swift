import Foundation
import Model

/// A user's GitOps repository: `environments/<env>/` directories under `root`.
///
/// Diagnostics name files relative to `root` (`environments/dev/cluster.yaml:12:5: …`).
public struct Repository: Sendable {
  public var root: String
  public var limits: YAMLLimits
  /// What one environment and the whole run (this repository value's loads) may read.
  public var budget: InputBudget
  /// Whether each file read gets its SHA-256 (``SourceFile/digest``, what
  /// ``Environment/desiredDigest`` and a plan's bindings are made of). `hk validate` uses no
  /// digest and turns this off: every ``SourceFile/digest`` is then empty.
  public var digestsFiles: Bool
  /// Base files shared by many environments are read, digested and parsed once per repository.
  let baseCache = BaseCache()
  /// `root` resolved and `environments/` checked once per run, not per environment.
  let containments = ContainmentCache()
  /// Bytes read by every load of this repository value (the run's budget).
  let spending = RunSpending()
  /// Whether an environment's files are opened from its directory's descriptor first (see
  /// ``load(_:)``); off, every file takes the path of containment checks and a read by path
  /// (tests compare the two).
  var opensFromDirectory = true

  public init(root: String, limits: YAMLLimits = .default, budget: InputBudget = .default, digestsFiles: Bool = true) {
    self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    self.limits = limits
    self.budget = budget
    self.digestsFiles = digestsFiles
  }

  public var environmentsDirectory: String { root + "/environments" }

  /// The environments in the repository: directories of `environments/` with an
  /// `environment.yaml`, sorted; `_`-prefixed directories (`_base`) are not environments.
  public func environmentNames() throws(DiagnosticError) -> [String] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: environmentsDirectory) else {
      throw DiagnosticError(
        Diagnostic(
          .error, "no environments directory at '\(environmentsDirectory)'; run hk from the repository root or pass --root",
          at: nil as Diagnostic.Location?, rule: "repo-missing"))
    }
    return entries.filter { !$0.hasPrefix("_") && !$0.hasPrefix(".") }
      .filter { FileManager.default.fileExists(atPath: environmentsDirectory + "/" + $0 + "/environment.yaml") }
      .sorted()
  }

  /// Environments named by the user, or all of them; unknown or invalid names are refused
  /// before any file of theirs is opened.
  public func resolveNames(_ requested: [String]) throws(DiagnosticError) -> [String] {
    var problems: [Diagnostic] = []
    for n in requested where !Environment.isValidName(n) {
      problems.append(
        Diagnostic(
          .error, "'\(n)' is not an environment name: use lower-case letters, digits and '-', starting with a letter or digit",
          at: nil as Diagnostic.Location?, rule: "env-name"))
    }
    if !problems.isEmpty { throw DiagnosticError(problems) }
    let all = try environmentNames()
    if requested.isEmpty { return all }
    for n in requested where !all.contains(n) {
      problems.append(
        Diagnostic(
          .error, "no environment '\(n)': expected environments/\(n)/environment.yaml (known: \(all.joined(separator: ", ")))",
          at: nil as Diagnostic.Location?, rule: "env-unknown"))
    }
    if !problems.isEmpty { throw DiagnosticError(problems) }
    var seen = Set<String>()
    return requested.filter { seen.insert($0).inserted }
  }

  /// Loads one environment: settings, manifests, base overlay, Kubernetes manifests.
  public func load(_ name: String) throws(DiagnosticError) -> Environment {
    guard Environment.isValidName(name) else {
      throw DiagnosticError(
        Diagnostic(
          .error, "'\(name)' is not an environment name: use lower-case letters, digits and '-'",
          at: nil as Diagnostic.Location?, rule: "env-name"))
    }
    let dirRel = "environments/\(name)"
    let containment = try containments.containment(root: root)
    var files: [SourceFile] = []
    var spent = EnvironmentSpending()
    // Whether a file read may hold a `$patch` key (most hold none: no tree is then rebuilt).
    var mayHavePatchMarkers = false

    // The environment's directory, opened once without following a symlink: its files are
    // opened from it (see ``FileReader/readRegularFile(in:_:limit:)``); -1 sends every file
    // through containment's checks and a read by path.
    let directoryFD = opensFromDirectory ? containment.openEnvironmentDirectory(name) : -1
    defer { if directoryFD >= 0 { close(directoryFD) } }

    /// Reads `rel`; `leaf` is its name in the directory `directoryOf` (a descriptor, -1: none),
    /// tried first (a regular file, no symlink); anything else takes the checked path.
    func readDocs(
      _ rel: String, shared: Bool = false, in directoryOf: Int32 = -1, leaf: String = ""
    ) throws(DiagnosticError) -> [YAMLNode] {
      if shared, let hit = baseCache.get(rel) {
        files.append(hit.file)
        mayHavePatchMarkers = mayHavePatchMarkers || hit.patchMarkers
        return hit.docs
      }
      var resolved = rel
      let bytes: [UInt8]
      if directoryOf >= 0, let read = FileReader.readRegularFile(in: directoryOf, leaf, limit: limits.maxBytes) {
        bytes = read
      } else {
        resolved = try containment.resolve(rel)
        bytes = try readByPath(rel, resolved: resolved)
      }
      return try parseDocs(rel, resolved: resolved, bytes: bytes, shared: shared)
    }

    func readByPath(_ rel: String, resolved: String) throws(DiagnosticError) -> [UInt8] {
      do {
        return try FileReader.read(containment.root + "/" + resolved, limit: limits.maxBytes)
      } catch {
        // name the file relative to the repository root, as every other diagnostic does
        throw DiagnosticError(
          error.diagnostics.map { d in
            var d = d
            if d.location != nil { d.location?.file = rel }
            return d
          })
      }
    }

    func parseDocs(_ rel: String, resolved: String, bytes: [UInt8], shared: Bool) throws(DiagnosticError) -> [YAMLNode] {
      try spent.spend(bytes.count, file: rel, environment: name, budget: budget, run: spending)
      let digest = digestsFiles ? SHA256.digest(bytes: bytes) : ""
      let file = SourceFile(path: rel, digest: digest, resolvedPath: resolved == rel ? nil : resolved)
      files.append(file)
      // empty documents (a lone `---`) are not objects
      let docs = try YAMLParser.parse(bytes, file: rel, limits: limits).filter {
        !($0.scalar.map { $0.text.isEmpty && $0.style == .plain } ?? false)
      }
      let markers = Self.mayHoldPatchKey(bytes)
      mayHavePatchMarkers = mayHavePatchMarkers || markers
      if shared { baseCache.put(rel, file: file, docs: docs, patchMarkers: markers) }
      return docs
    }

    let settingsRel = dirRel + "/environment.yaml"
    let settingsDocs = try readDocs(settingsRel, in: directoryFD, leaf: "environment.yaml")
    guard settingsDocs.count == 1, let settingsNode = settingsDocs.first else {
      throw DiagnosticError(
        Diagnostic(
          .error, "environment.yaml must hold exactly one document", at: Diagnostic.Location(file: settingsRel, line: 1, column: 1),
          rule: "settings-shape"))
    }
    let settings = try SettingsDecoder.decode(settingsNode, file: settingsRel)

    let clusterRel = dirRel + "/cluster.yaml"
    var (cluster, igs) = try Self.split(
      try readDocs(clusterRel, in: directoryFD, leaf: "cluster.yaml"), file: clusterRel, requireCluster: settings.base == nil)

    if let base = settings.base {
      let baseRel = try resolveRelative(base, from: dirRel, mark: settings.marks["base"])
      let (baseCluster, baseIGs) = try Self.split(try readDocs(baseRel, shared: true), file: baseRel, requireCluster: false)
      switch (baseCluster, cluster) {
      case (let b?, let o?): cluster = Overlay.merge(base: b, overlay: o)
      case (let b?, nil): cluster = b
      default: break
      }
      // Indexed by name (thousands of groups: no quadratic search); removals leave a hole.
      var merged: [YAMLNode?] = baseIGs
      var index: [String: Int] = [:]
      for (i, ig) in baseIGs.enumerated() {
        if let n = InstanceGroupView(ig).name, index[n] == nil { index[n] = i }
      }
      for ig in igs {
        let n = InstanceGroupView(ig).name
        if let n, let i = index[n], let existing = merged[i] {
          if ig["spec"]?.isNull == true && ig.pair("spec") != nil {
            merged[i] = nil
            index[n] = nil
          } else {
            merged[i] = Overlay.merge(base: existing, overlay: ig)
          }
        } else if !(ig["spec"]?.isNull == true) {
          if let n { index[n] = merged.count }
          merged.append(ig)
        }
      }
      igs = merged.compactMap { $0 }
    }
    guard let clusterNode = cluster else {
      throw DiagnosticError(
        Diagnostic(
          .error, "no Cluster document: cluster.yaml (or its base) must hold one 'kind: Cluster'",
          at: Diagnostic.Location(file: clusterRel, line: 1, column: 1), rule: "manifest-shape"))
    }

    var k8s: [YAMLNode] = []
    switch Self.listManifests(in: directoryFD) {
    case .none:
      break
    case .listed(let directory, let entries):
      defer { closedir(directory) }
      for f in entries.sorted() where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
        k8s += try readDocs(dirRel + "/manifests/" + f, in: dirfd(directory), leaf: f).filter { $0.isMapping }
      }
    case .unknown:
      let manifestsDir = root + "/" + dirRel + "/manifests"
      // Most environments have no manifests/: one stat says so (listing a missing directory
      // through FileManager builds an error to throw away).
      if Self.mayBeDirectory(manifestsDir), let entries = try? FileManager.default.contentsOfDirectory(atPath: manifestsDir) {
        for f in entries.sorted() where f.hasSuffix(".yaml") || f.hasSuffix(".yml") {
          k8s += try readDocs(dirRel + "/manifests/" + f).filter { $0.isMapping }
        }
      }
    }

    return Environment(
      name: name, directory: dirRel, settingsFile: settingsRel, settings: settings,
      cluster: mayHavePatchMarkers ? Overlay.stripPatchMarkers(clusterNode) : clusterNode,
      instanceGroups: mayHavePatchMarkers ? igs.map(Overlay.stripPatchMarkers) : igs,
      kubernetesManifests: k8s, sourceFiles: files)
  }

  /// Resolves `base:` relative to the environment directory, refusing paths outside the repository.
  func resolveRelative(_ path: String, from dir: String, mark: Mark?) throws(DiagnosticError) -> String {
    // The common case, `../X/…` from `environments/<env>` with plain components, is
    // `environments/X/…` (what the walk below makes of it), without splitting and joining.
    if dir.hasPrefix("environments/"), !dir.utf8.dropFirst(13).contains(UInt8(ascii: "/")), dir.utf8.count > 13,
      path.hasPrefix("../"), Self.hasOnlyPlainComponents(path.utf8.dropFirst(3))
    {
      return "environments/" + path.dropFirst(3)
    }
    var parts = dir.split(separator: "/").map(String.init)
    if path.hasPrefix("/") {
      throw DiagnosticError(
        Diagnostic(.error, "base '\(path)' must be a path relative to the environment directory", at: mark, rule: "settings-base"))
    }
    for comp in path.split(separator: "/") {
      switch comp {
      case ".": continue
      case "..":
        guard !parts.isEmpty else {
          throw DiagnosticError(
            Diagnostic(
              .error, "base '\(path)' points outside the repository; keep shared files under environments/", at: mark, rule: "settings-base"
            ))
        }
        parts.removeLast()
      default: parts.append(String(comp))
      }
    }
    let rel = parts.joined(separator: "/")
    guard rel.hasPrefix("environments/") else {
      throw DiagnosticError(
        Diagnostic(.error, "base '\(path)' must be under environments/ (e.g. ../_base/cluster.yaml)", at: mark, rule: "settings-base"))
    }
    return rel
  }

  /// Whether `path` is one or more `/`-separated components, none empty, `.` or `..`.
  static func hasOnlyPlainComponents(_ path: Substring.UTF8View) -> Bool {
    guard !path.isEmpty else { return false }
    for component in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
      if component.isEmpty || component.elementsEqual(".".utf8) || component.elementsEqual("..".utf8) { return false }
    }
    return true
  }

  /// Splits a manifest file into its Cluster and InstanceGroups.
  static func split(_ docs: [YAMLNode], file: String, requireCluster: Bool) throws(DiagnosticError) -> (YAMLNode?, [YAMLNode]) {
    var cluster: YAMLNode? = nil
    var igs: [YAMLNode] = []
    var names = Set<String>()
    var problems: [Diagnostic] = []
    for d in docs {
      guard d.isMapping else {
        problems.append(
          Diagnostic(.error, "expected a kops object (a mapping with 'kind'), found a \(describe(d))", at: d.mark, rule: "manifest-shape"))
        continue
      }
      let kind = d["kind"]?.text
      switch kind {
      case "Cluster":
        if cluster != nil {
          problems.append(
            Diagnostic(.error, "a second Cluster document; an environment holds exactly one cluster", at: d.mark, rule: "manifest-shape"))
        }
        cluster = d
      case "InstanceGroup":
        guard InstanceGroupView(d).name != nil else {
          problems.append(Diagnostic(.error, "InstanceGroup without metadata.name; name it", at: d.mark, rule: "manifest-shape"))
          continue
        }
        if let n = InstanceGroupView(d).name, !names.insert(n).inserted {
          problems.append(
            Diagnostic(
              .error, "duplicate InstanceGroup '\(n)'; instance group names are unique per cluster", at: d.mark, rule: "manifest-shape"))
          continue
        }
        igs.append(d)
      case nil:
        problems.append(Diagnostic(.error, "document has no 'kind'; expected Cluster or InstanceGroup", at: d.mark, rule: "manifest-shape"))
      case let k?:
        problems.append(
          Diagnostic(
            .error,
            "kind '\(k)' is not handled here; cluster.yaml holds Cluster and InstanceGroup objects (put other objects in manifests/)",
            at: d["kind"]?.mark ?? d.mark, rule: "manifest-shape"))
      }
    }
    if cluster == nil && requireCluster && problems.isEmpty {
      problems.append(
        Diagnostic(
          .error, "no Cluster document: cluster.yaml must hold one 'kind: Cluster'",
          at: Diagnostic.Location(file: file, line: 1, column: 1), rule: "manifest-shape"))
    }
    if !problems.isEmpty { throw DiagnosticError(problems) }
    return (cluster, igs)
  }

  static func describe(_ n: YAMLNode) -> String {
    switch n.content {
    case .scalar: "scalar"
    case .sequence: "list"
    case .mapping: "mapping"
    }
  }
}

extension Repository {
  /// What `manifests/` of an environment directory (a descriptor) holds, as far as can be
  /// told without following a symlink.
  enum ManifestListing {
    /// No `manifests` entry at all.
    case none
    /// A directory (no symlink), open, and its entries but `.` and `..`; the caller closes it.
    case listed(OpaquePointer, [String])
    /// Anything else (no descriptor, a symlink, a file, a name that is not UTF-8, an error):
    /// the listing by path decides, as it always did.
    case unknown
  }

  static func listManifests(in directoryFD: Int32) -> ManifestListing {
    guard directoryFD >= 0 else { return .unknown }
    let fd = openat(directoryFD, "manifests", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return errno == ENOENT ? .none : .unknown }
    guard let directory = fdopendir(fd) else {
      close(fd)
      return .unknown
    }
    var entries: [String] = []
    while true {
      errno = 0
      guard let entry = readdir(directory) else {
        if errno != 0 {
          closedir(directory)
          return .unknown
        }
        break
      }
      let name: String? = withUnsafePointer(to: &entry.pointee.d_name) { p in
        p.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
          String(validatingCString: $0)
        }
      }
      guard let name else {
        closedir(directory)
        return .unknown
      }
      if name == "." || name == ".." { continue }
      entries.append(name)
    }
    return .listed(directory, entries)
  }

  /// False when `path` certainly is no directory (`stat` fails: missing, or a component is no
  /// directory); true otherwise, the listing then decides.
  static func mayBeDirectory(_ path: String) -> Bool {
    var info = stat()
    guard stat(path, &info) == 0 else { return errno != ENOENT && errno != ENOTDIR }
    return true
  }

  /// Whether a YAML file's bytes can hold a `$patch` key: they contain `$patch` literally, or a
  /// backslash (a double-quoted key can spell it with escapes; plain and single-quoted keys,
  /// folded lines and aliases cannot make it without the literal text).
  static func mayHoldPatchKey(_ bytes: [UInt8]) -> Bool {
    // `memchr` (vectorised) finds the two bytes that can start either: a thousand environments'
    // files are read through once more here, and a byte-by-byte loop was 1 % of `hk plan`.
    bytes.withUnsafeBufferPointer { b in
      guard let base = b.baseAddress, !b.isEmpty else { return false }
      if memchr(base, 0x5C, b.count) != nil { return true }  // a backslash
      let marker: StaticString = "$patch"
      return marker.withUTF8Buffer { m in
        guard let mb = m.baseAddress else { return false }
        var from = 0
        while from < b.count, let hit = memchr(base + from, 0x24, b.count - from) {
          let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
          if i + m.count <= b.count, memcmp(base + i, mb, m.count) == 0 { return true }
          from = i + 1
        }
        return false
      }
    }
  }
}

/// Parsed base files, keyed by their path in the repository (one `hk` run reads each once).
final class BaseCache: @unchecked Sendable {
  private let lock = NSLock()
  private var entries: [String: (file: SourceFile, docs: [YAMLNode], patchMarkers: Bool)] = [:]

  func get(_ rel: String) -> (file: SourceFile, docs: [YAMLNode], patchMarkers: Bool)? {
    lock.withLock { entries[rel] }
  }

  func put(_ rel: String, file: SourceFile, docs: [YAMLNode], patchMarkers: Bool) {
    lock.withLock { entries[rel] = (file, docs, patchMarkers) }
  }
}

/// The ``PathContainment`` of a root, made once (its `realpath`s and the check that
/// `environments/` is no symlink) and handed to every environment; a refusal is given to each
/// environment alike, as when each made its own.
final class ContainmentCache: @unchecked Sendable {
  private let lock = NSLock()
  private var entry: (root: String, result: Result<PathContainment, DiagnosticError>)?

  func containment(root: String) throws(DiagnosticError) -> PathContainment {
    let result: Result<PathContainment, DiagnosticError> = lock.withLock {
      if let entry, entry.root == root { return entry.result }
      let made: Result<PathContainment, DiagnosticError>
      do throws(DiagnosticError) {
        made = .success(try PathContainment(root: root))
      } catch {
        made = .failure(error)
      }
      entry = (root, made)
      return made
    }
    return try result.get()
  }
}
