import Model

/// The versions of kops binaries, asked once each per run: concurrent askers of one binary wait
/// for the same `kops version --short` call, and its answer (or error) serves them all.
public actor KopsVersions {
  private var calls: [String: Task<KopsVersion, any Error>] = [:]

  public init() {}

  /// The version of the kops binary `kops`, from `ask` the first time it is wanted.
  public func version(of kops: String, ask: @escaping @Sendable () async throws -> KopsVersion) async throws -> KopsVersion {
    if let call = calls[kops] { return try await call.value }
    let call = Task { try await ask() }
    calls[kops] = call
    return try await call.value
  }
}
