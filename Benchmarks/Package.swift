// swift-tools-version: 6.2
import PackageDescription

/// hk's benchmark programs, kept out of the main package so that its test build never builds
/// them (and never pulls Yams in). `scripts/bench` builds them in release mode and times them;
/// `scripts/bench --build-only` only builds them (CI). See docs/PERFORMANCE.md.
let package = Package(
  name: "hk-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "hk", path: ".."),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
  ],
  targets: [
    /** P5's reference: the start-up of a bare Swift executable (prints one line). */
    .executableTarget(name: "bench-hello"),
    /** P1's set-up: records state for environments through hk's own Store, as an apply would. */
    .executableTarget(
      name: "bench-seed-state", dependencies: [.product(name: "HKCore", package: "hk")]),
    /** P1's comparison: Yams compose (a Node tree with marks) of the files hk plan reads. */
    .executableTarget(
      name: "bench-yams-compose", dependencies: [.product(name: "Yams", package: "Yams")]),
  ],
  swiftLanguageModes: [.v6]
)
