import CLibPQ
import Foundation
import HKTestSupport
import StoreCore
import Testing

@testable import PostgresStore

/// hk loads libpq itself, on the first PostgreSQL LOCATION (Sources/PostgresStore/LibPQ.swift):
/// the executable does not link it, the system's libpq is found and callable, and a machine
/// without it gets an error that names the location and what to install.
@Suite struct LibPQLoadingTests {
  @Test func theSystemLibpqLoadsAndAnswers() throws {
    let pq = try LibPQ.load(LibPQ.names).get()
    // A connection that cannot succeed (no server behind that socket directory) exercises the
    // resolved functions without a server: status, message, finish.
    let keys = [strdup("host"), strdup("port"), strdup("connect_timeout")]
    let values = [strdup("/nonexistent-hk-socket-dir"), strdup("1"), strdup("1")]
    defer {
      for p in keys + values { free(p) }
    }
    var k: [UnsafePointer<CChar>?] = keys.map { UnsafePointer($0) } + [nil]
    var v: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
    let conn = k.withUnsafeMutableBufferPointer { kp in
      v.withUnsafeMutableBufferPointer { vp in pq.connectdbParams(kp.baseAddress, vp.baseAddress, 0) }
    }
    let c = try #require(conn)
    defer { pq.finish(c) }
    #expect(pq.status(c) == CONNECTION_BAD)
    let message = pq.errorMessage(c).map { String(cString: $0) } ?? ""
    #expect(message.contains("/nonexistent-hk-socket-dir"), "\(message)")
  }

  @Test func aMissingLibraryIsReportedByName() {
    guard case .failure(let error) = LibPQ.load(["libpq-hk-test-missing.so.5"]) else {
      Issue.record("a library that does not exist loaded")
      return
    }
    #expect(error.detail.contains("libpq-hk-test-missing.so.5"), "\(error.detail)")
  }

  @Test func aLibraryWithoutLibpqsFunctionsIsRefused() {
    #if os(Linux)
    guard case .failure(let error) = LibPQ.load(["libc.so.6"]) else {
      Issue.record("libc was taken for libpq")
      return
    }
    #expect(error.detail == "libc.so.6: not libpq (a function hk needs is missing)")
    #endif
  }

  @Test func theErrorNamesTheLocationAndWhatToInstall() {
    let missing: Result<LibPQ, LibPQ.LoadError> = .failure(.init(detail: "libpq.so.5: cannot open shared object file"))
    #expect(throws: StoreError.self) { try LibPQ.forLocation("postgresql://hk:***@db.corp/hk", loaded: missing) }
    do {
      _ = try LibPQ.forLocation("postgresql://hk:***@db.corp/hk", loaded: missing)
    } catch {
      let text = error.localizedDescription
      #expect(text.contains("postgresql://hk:***@db.corp/hk"), "\(text)")
      #expect(text.contains("libpq.so.5: cannot open shared object file"), "\(text)")
      #expect(text.contains("apt-get install libpq5"), "\(text)")
    }
  }

  /// The executable starts without libpq and the libraries it needs (Kerberos, LDAP, GnuTLS):
  /// `ldd` lists everything the loader maps at start-up, directly or not.
  @Test func hkDoesNotLinkLibpq() throws {
    #if os(Linux)
    let hk = try TestProducts.executable("hk")
    let r = try runProcess("/usr/bin/ldd", [hk])
    try #require(r.exitCode == 0, "\(r)")
    #expect(r.stdout.contains("libyaml"), "ldd printed no libraries: \(r.stdout)")
    for library in ["libpq", "libkrb5", "libldap", "libgnutls"] {
      #expect(!r.stdout.contains(library), "hk links \(library): \(r.stdout)")
    }
    #endif
  }
}
