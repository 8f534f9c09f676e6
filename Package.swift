// swift-tools-version: 6.2
import PackageDescription

/// hk: GitOps for kops-managed clusters in AWS hybrid (no internet gateway) VPCs.
///
/// Layering (each target imports only those above it):
///   CYAML (system libyaml) → Model (pure values) → Config (YAML loading, environments,
///   validation) → StoreCore (the store protocol, no database) → PostgresStore (libpq) and
///   Store (SQLite via GRDB, and the factory picking a backend) → Planner (diff, steps,
///   rendering) → Executor (runner, kops/aws adapters, step engine, run lifecycle) → Operations
///   (the plan, apply, drift and import workflows) → HKCommands (CLI: parse, call, print, exit) → hk.
let package = Package(
  name: "hk",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "hk", targets: ["hk"]),
    .executable(name: "fake-kops", targets: ["fake-kops"]),
    /** For Benchmarks/ (a separate package): loads environments and writes recorded state. */
    .library(name: "HKCore", targets: ["Model", "Config", "StoreCore", "Store"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
  ],
  targets: [
    // MARK: Core libraries
    /** The system libyaml, used directly: Yams' scalar resolution costs ~15× a raw event parse. */
    .systemLibrary(
      name: "CYAML", pkgConfig: "yaml-0.1",
      providers: [.apt(["libyaml-dev"])]),
    /** The system libcrypto (OpenSSL 3), for SHA-256 only. */
    .systemLibrary(
      name: "CLibCrypto", pkgConfig: "libcrypto",
      providers: [.apt(["libssl-dev"])]),
    /** Pure values: YAML trees with positions, typed kops views, environment settings, plans, diagnostics. */
    .target(name: "Model", dependencies: ["CLibCrypto"], linkerSettings: [.linkedLibrary("m")]),
    /** Loading: libyaml → Model trees, hostile-input limits, environments with base overlays, validation. */
    .target(name: "Config", dependencies: ["Model", "CYAML"]),
    /** libpq's declarations (PostgreSQL's client library: conninfo, PG* variables, .pgpass, TLS are its); not linked: PostgresStore loads libpq when a LOCATION is PostgreSQL. */
    .systemLibrary(
      name: "CLibPQ",
      providers: [.apt(["libpq-dev"])]),
    /** The store seam: the protocol, its values, backend-neutral errors, locations, leases. No database. */
    .target(name: "StoreCore", dependencies: ["Model"]),
    /** The recorded state in PostgreSQL (schema `hk`), through libpq. */
    .target(name: "PostgresStore", dependencies: ["Model", "StoreCore", "CLibPQ"]),
    /** The recorded state in SQLite through GRDB, and the factory that opens a LOCATION's backend. */
    .target(
      name: "Store", dependencies: ["Model", "StoreCore", "PostgresStore", .product(name: "GRDB", package: "GRDB.swift")]),
    /** Diff desired vs recorded into a plan, order its steps, render it (text, markdown, json). */
    .target(name: "Planner", dependencies: ["Model", "Config"]),
    /** Runs plans: the CommandRunner seam, kops and aws adapters, step engine, journal, locks. */
    .target(
      name: "Executor",
      dependencies: [
        "Model", "Config", "Store", "Planner",
        .product(name: "Subprocess", package: "swift-subprocess"),
      ]),
    /** Huge pages for glibc malloc's heaps, on once CStartup turns them on: each thread Operations' parallel work runs on advises its arena's heap. */
    .target(name: "CMallocAdvice"),
    /** The workflows behind the commands (plan, apply, drift, import), called with option values; prints nothing. */
    .target(name: "Operations", dependencies: ["Model", "Config", "Store", "Planner", "Executor", "CMallocAdvice"]),
    /** The argument-parser commands: parse, call an operation, print, exit (a library, so tests can drive it). */
    .target(
      name: "HKCommands",
      dependencies: [
        "Model", "Config", "Store", "Planner", "Executor", "Operations",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    /** glibc malloc settings made before main (Sources/CStartup/startup.c): hk's executable only. */
    .target(name: "CStartup", dependencies: ["CMallocAdvice"]),
    .executableTarget(
      name: "hk", dependencies: ["HKCommands", "CStartup", .product(name: "ArgumentParser", package: "swift-argument-parser")]),

    // MARK: Test doubles
    /** A kops CLI double (flags, output split, exit codes and messages of the kops commands hk runs; see Sources/fake-kops/FakeKops.swift), run as a separate process by the tests and scripts/sandbox. */
    /// It reads YAML with its own libyaml reader (never Config's `YAMLParser`: a parser bug must not hide in both);
    /// Config only for `KopsSchema`, the kops API types it marshals by.
    .executableTarget(name: "fake-kops", dependencies: ["Model", "Config", "CYAML"]),

    // MARK: Tests
    .target(name: "HKTestSupport", dependencies: ["Model", "Config", "Store", "Executor"], path: "Tests/HKTestSupport"),
    .testTarget(name: "ModelTests", dependencies: ["Model", "Config", "HKTestSupport"]),
    .testTarget(name: "ConfigTests", dependencies: ["Model", "Config", "HKTestSupport"]),
    .testTarget(
      name: "StoreTests",
      dependencies: ["Model", "Store", "StoreCore", "PostgresStore", "HKTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
    .testTarget(
      name: "PlannerTests", dependencies: ["Model", "Config", "Planner", "HKTestSupport"],
      exclude: ["Golden"]),
    .testTarget(
      name: "ExecutorTests",
      dependencies: ["Model", "Config", "Store", "Planner", "Executor", "HKTestSupport", "fake-kops"]),
    .testTarget(
      name: "EndToEndTests",
      dependencies: [
        "Model", "Config", "Planner", "Store", "Operations", "HKCommands", "HKTestSupport", "hk", "CStartup", "CMallocAdvice",
        "fake-kops",
        .product(name: "GRDB", package: "GRDB.swift"),
      ]),
  ],
  swiftLanguageModes: [.v6]
)
