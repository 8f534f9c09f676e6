/// What a change, a step or a drifted field is about: one object hk manages.
///
/// The planner names the object once; the executor and drift ask the address, never a string.
/// Plan JSON keeps the spellings of `format_version` "1": a step's `object` is ``stepObject``
/// (`cluster`, `instancegroup/NAME`), and a change's path starts with ``pathPrefix``.
public enum ObjectAddress: Sendable, Hashable {
  /// The kops Cluster object (its spec, IAM and logging fields, the kops version it runs).
  case cluster
  /// One kops InstanceGroup, by name.
  case instanceGroup(String)
  /// The internet gateway hk attaches around `kops update --yes` (strategy temporary), by id.
  case internetGateway(String)
  /// The `environment.yaml` settings hk records with each revision.
  case settings

  /// The instance group's name, for ``instanceGroup(_:)``.
  public var instanceGroupName: String? {
    if case .instanceGroup(let name) = self { return name }
    return nil
  }

  /// A step's `object` in plan JSON: `cluster` or `instancegroup/NAME` (nil for the others,
  /// which plan JSON does not name on a step).
  public var stepObject: String? {
    switch self {
    case .cluster: "cluster"
    case .instanceGroup(let name): "instancegroup/\(name)"
    case .internetGateway, .settings: nil
    }
  }

  /// Reads a step's `object` back from plan JSON.
  public init?(stepObject: String) {
    if stepObject == "cluster" {
      self = .cluster
    } else if stepObject.hasPrefix("instancegroup/") {
      self = .instanceGroup(String(stepObject.dropFirst("instancegroup/".count)))
    } else {
      return nil
    }
  }

  /// The prefix of the change and drift paths inside this object (`instancegroup[NAME]`,
  /// `internetGateway[ID]`, `settings`); nil for the cluster, whose paths start with `spec`.
  public var pathPrefix: String? {
    switch self {
    case .cluster: nil
    case .instanceGroup(let name): "instancegroup[\(name)]"
    case .internetGateway(let id): "internetGateway[\(id)]"
    case .settings: "settings"
    }
  }

  /// The object a change or drift path read back from JSON is about (everything outside an
  /// instance group, the gateway and the settings is the cluster's).
  public init(path: String) {
    if let name = Self.bracketed(path, "instancegroup[") {
      self = .instanceGroup(name)
    } else if let id = Self.bracketed(path, "internetGateway[") {
      self = .internetGateway(id)
    } else if path.hasPrefix("settings.") {
      self = .settings
    } else {
      self = .cluster
    }
  }

  private static func bracketed(_ path: String, _ opening: String) -> String? {
    guard path.hasPrefix(opening) else { return nil }
    let rest = path.dropFirst(opening.count)
    guard let close = rest.firstIndex(of: "]") else { return nil }
    return String(rest[..<close])
  }
}
