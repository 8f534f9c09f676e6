import Foundation
import Synchronization

extension StateStores {
  private static let awsInvoker = Mutex<(any AWSInvoking)?>(nil)

  /// What runs the aws CLI for `s3://` locations: set by the commands from `--aws` / `HK_AWS`;
  /// until then `HK_AWS`, else `aws` on `PATH`.
  public static var aws: any AWSInvoking {
    get {
      awsInvoker.withLock { $0 }
        ?? AWSProcess(executable: ProcessInfo.processInfo.environment["HK_AWS"].flatMap { $0.isEmpty ? nil : $0 } ?? "aws")
    }
    set { awsInvoker.withLock { $0 = newValue } }
  }

  static func openS3(_ location: S3Location, creating: Bool) throws -> Opened {
    guard let store = try S3StateStore.open(location, aws: aws, creating: creating) else {
      return Opened(store: nil, notice: "hk: no state recorded yet at \(location.display) (first use of this location: no such object)")
    }
    let notice =
      store.created
      ? "hk: no state object at \(location.display) yet; hk creates it with its first write (first use of this location)" : nil
    return Opened(store: store, notice: notice)
  }
}
