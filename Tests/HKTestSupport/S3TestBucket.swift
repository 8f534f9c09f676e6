import Foundation
import Store

/// Buckets on the moto server shared by the tests of this process (``MotoServer/shared()``), and
/// the aws CLI pointed at it: what the S3 state backend's tests use (`s3://BUCKET/KEY` locations).
public enum S3TestBucket {
  private final class Shared: @unchecked Sendable {
    let lock = NSLock()
    var pointed = false
  }
  private static let shared = Shared()

  /// The shared server (started on first use), with the S3 backend's aws calls pointed at it.
  public static func server() throws -> MotoServer {
    let server = try MotoServer.shared()
    shared.lock.lock()
    defer { shared.lock.unlock() }
    if !shared.pointed {
      StateStores.aws = try invoker(server)
      shared.pointed = true
    }
    return server
  }

  /// The real aws CLI, its environment pointed at `server` (endpoint, test credentials, region).
  public static func invoker(_ server: MotoServer) throws -> AWSProcess {
    guard let aws = resolveTool("aws") else { throw TestSupportError("the aws CLI is not installed: run the README's test command") }
    return AWSProcess(executable: aws, environment: server.environment(merging: ProcessInfo.processInfo.environment))
  }

  /// A new bucket (versioning on) and a fresh location in it: `s3://BUCKET/hk/state.sqlite`.
  public static func freshLocation(versioning: Bool = true) throws -> String {
    let server = try server()
    let bucket = "hk-state-" + UUID().uuidString.lowercased().prefix(13)
    try server.aws([
      "s3api", "create-bucket", "--bucket", String(bucket), "--create-bucket-configuration", "LocationConstraint=\(server.region)",
    ])
    if versioning {
      try server.aws(["s3api", "put-bucket-versioning", "--bucket", String(bucket), "--versioning-configuration", "Status=Enabled"])
    }
    return "s3://\(bucket)/hk/state.sqlite"
  }
}
