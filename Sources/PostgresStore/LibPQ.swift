import CLibPQ
import StoreCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libpq's functions, loaded from the system's libpq the first time a PostgreSQL LOCATION is
/// opened.
///
/// hk does not link libpq (Sources/CLibPQ holds its declarations only): linked, it and the
/// libraries it needs were loaded and relocated at the start of every run, PostgreSQL or not —
/// about 4 ms of CPU and 260 page faults, a tenth of `hk --version` (docs/PERFORMANCE.md, issue
/// 15, seventh round) — and a machine without libpq could not run hk at all. Only the functions
/// ``PGConnection`` calls are resolved; a library without one of them is refused as not libpq.
struct LibPQ: Sendable {
  typealias Conn = OpaquePointer
  typealias Res = OpaquePointer
  typealias ConnectdbParams =
    @convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> Conn?
  typealias Status = @convention(c) (Conn?) -> ConnStatusType
  typealias Message = @convention(c) (Conn?) -> UnsafeMutablePointer<CChar>?
  typealias OnConn = @convention(c) (Conn?) -> Void
  typealias OnResult = @convention(c) (Res?) -> Void
  typealias ResultStatus = @convention(c) (Res?) -> ExecStatusType
  typealias Count = @convention(c) (Res?) -> Int32
  typealias Exec = @convention(c) (Conn?, UnsafePointer<CChar>?) -> Res?
  typealias ExecParams =
    @convention(c) (
      Conn?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?,
      UnsafePointer<Int32>?, UnsafePointer<Int32>?, Int32
    ) -> Res?
  typealias ErrorField = @convention(c) (Res?, Int32) -> UnsafeMutablePointer<CChar>?
  typealias IsNull = @convention(c) (Res?, Int32, Int32) -> Int32
  typealias Value = @convention(c) (Res?, Int32, Int32) -> UnsafeMutablePointer<CChar>?

  let connectdbParams: ConnectdbParams
  let status: Status
  let errorMessage: Message
  let finish: OnConn
  let reset: OnConn
  let exec: Exec
  let execParams: ExecParams
  let clear: OnResult
  let resultStatus: ResultStatus
  let resultErrorField: ErrorField
  let ntuples: Count
  let nfields: Count
  let getisnull: IsNull
  let getvalue: Value

  /// Why libpq could not be loaded: the loader's message (which file, what went wrong).
  struct LoadError: Error, Hashable {
    var detail: String
  }

  /// The names tried, in order: libpq's soname (ABI 5 since PostgreSQL 8.4), then the
  /// development link, then macOS's.
  static let names = ["libpq.so.5", "libpq.so", "libpq.5.dylib", "libpq.dylib"]

  /// libpq, loaded once per process (on first use).
  static let shared: Result<LibPQ, LoadError> = load(names)

  /// The first of `names` the dynamic loader finds that has every function hk calls.
  static func load(_ names: [String]) -> Result<LibPQ, LoadError> {
    var tried: [String] = []
    for name in names {
      guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
        tried.append(dlerror().map { String(cString: $0) } ?? "\(name): not found")
        continue
      }
      if let pq = resolve(handle) { return .success(pq) }
      tried.append("\(name): not libpq (a function hk needs is missing)")
      dlclose(handle)
    }
    return .failure(LoadError(detail: tried.joined(separator: "; ")))
  }

  /// The libpq of this process (`loaded`), or a ``StoreCore/StoreError`` naming the LOCATION that
  /// needs it and what to install.
  static func forLocation(_ display: String, loaded: Result<LibPQ, LoadError> = shared) throws(StoreError) -> LibPQ {
    switch loaded {
    case .success(let pq): return pq
    case .failure(let error):
      throw StoreError.unsupportedLocation(
        location: display,
        reason:
          "needs libpq, PostgreSQL's client library, which hk could not load (\(error.detail)); install it (Debian/Ubuntu: apt-get install libpq5) or use another state location"
      )
    }
  }

  private static func resolve(_ handle: UnsafeMutableRawPointer) -> LibPQ? {
    func fn<F>(_ name: String) -> F? {
      dlsym(handle, name).map { unsafeBitCast($0, to: F.self) }
    }
    guard let connectdbParams: ConnectdbParams = fn("PQconnectdbParams"),
      let status: Status = fn("PQstatus"),
      let errorMessage: Message = fn("PQerrorMessage"),
      let finish: OnConn = fn("PQfinish"),
      let reset: OnConn = fn("PQreset"),
      let exec: Exec = fn("PQexec"),
      let execParams: ExecParams = fn("PQexecParams"),
      let clear: OnResult = fn("PQclear"),
      let resultStatus: ResultStatus = fn("PQresultStatus"),
      let resultErrorField: ErrorField = fn("PQresultErrorField"),
      let ntuples: Count = fn("PQntuples"),
      let nfields: Count = fn("PQnfields"),
      let getisnull: IsNull = fn("PQgetisnull"),
      let getvalue: Value = fn("PQgetvalue")
    else { return nil }
    return LibPQ(
      connectdbParams: connectdbParams, status: status, errorMessage: errorMessage, finish: finish, reset: reset,
      exec: exec, execParams: execParams, clear: clear, resultStatus: resultStatus, resultErrorField: resultErrorField,
      ntuples: ntuples, nfields: nfields, getisnull: getisnull, getvalue: getvalue)
  }
}
