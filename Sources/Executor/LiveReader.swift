import Config
import Model
import Planner

/// The Cluster and InstanceGroups as the kops state store holds them.
public struct LiveObjects: Sendable {
  public var cluster: YAMLNode?
  public var instanceGroups: [YAMLNode]
  public init(cluster: YAMLNode?, instanceGroups: [YAMLNode]) {
    self.cluster = cluster
    self.instanceGroups = instanceGroups
  }
}

/// Reads the live objects through kops: `kops get all C -o yaml` from 1.26, else `get cluster`
/// and `get instancegroups` (kops-contract.md §1.2–§1.4). A cluster that does not exist is
/// `cluster == nil`, not an error.
public struct LiveReader: Sendable {
  public var argv: KopsArgv
  public var version: KopsVersion

  public init(argv: KopsArgv, version: KopsVersion) {
    self.argv = argv
    self.version = version
  }

  /// The kops calls, in order.
  public var calls: [[String]] {
    KopsCapabilities(version).hasGetAll ? [argv.getAll()] : [argv.getCluster(), argv.getInstanceGroups()]
  }

  public enum Failure: HKError, CustomStringConvertible {
    case command(String)
    case unreadable(String)
    public var description: String {
      switch self {
      case .command(let m), .unreadable(let m): m
      }
    }
    public var errorDescription: String? { description }
    public var nextStep: String { NextStep.of(description, otherwise: "check the kops binary and the state store") }
  }

  /// Runs the reads through `run` (which journals or not, as its caller wants).
  public func read(
    _ run: ([String]) async -> (CommandResult?, String?)
  ) async -> Result<LiveObjects, Failure> {
    var docs: [YAMLNode] = []
    for call in calls {
      let (r, err) = await run(call)
      guard let r else { return .failure(.command("cannot read the live objects: \(err ?? "")")) }
      if !r.succeeded {
        let message = KopsOutput.failureSummary(stderr: r.stderr, stdout: r.stdout) ?? r.statusDescription
        if Self.isNotFound(message) {
          if call == calls.first { return .success(LiveObjects(cluster: nil, instanceGroups: [])) }
          continue
        }
        return .failure(.command("'\(PlanRenderer.shell(call))' failed: \(message)"))
      }
      if r.truncated { return .failure(.unreadable("the output of '\(PlanRenderer.shell(call))' was too large to read whole")) }
      do {
        docs += try YAMLParser.parse(r.stdout, file: "kops get (live)").filter(\.isMapping)
      } catch {
        return .failure(
          .unreadable(
            "kops printed YAML hk cannot read (\(String(error.description.prefix(300)))); check the kops binary and the state store"))
      }
    }
    let cluster = docs.first { $0["kind"]?.text == "Cluster" }
    let igs = docs.filter { $0["kind"]?.text == "InstanceGroup" }
    return .success(LiveObjects(cluster: cluster, instanceGroups: igs))
  }

  static func isNotFound(_ message: String) -> Bool {
    message.contains("not found") || message.contains("no clusters found") || message.contains("No instance groups")
      || message.contains("no InstanceGroup objects found")
  }
}
