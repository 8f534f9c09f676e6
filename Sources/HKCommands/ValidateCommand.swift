import ArgumentParser
import Model
import Operations

extension HK {
  /// `hk validate [ENV...]`: the kops-version-aware and hybrid rules; runs no kops or aws.
  public struct Validate: ParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "validate",
      abstract: "Check environments against kops's rules and the hybrid (no internet gateway) rules.",
      discussion: "Prints file:line:col: severity: message for every problem, grouped by environment. Exits 1 when any error is found.")

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "Environments to check (default: all).") public var environments: [String] = []

    public init() {}

    public func run() throws {
      let term = global.terminal
      let loaded: LoadedEnvironments
      do {
        loaded = try Workspace(root: global.root, digestsFiles: false).load(environments)
      } catch {
        term.print(error.diagnostics)
        throw ExitCode.failure
      }
      var errors = 0
      var warnings = 0
      for (name, diags) in loaded.diagnostics {
        let e = diags.filter { $0.severity == .error }.count
        let w = diags.filter { $0.severity == .warning }.count
        errors += e
        warnings += w
        term.out("\(name): " + (diags.isEmpty ? "ok" : "\(e) error\(e == 1 ? "" : "s"), \(w) warning\(w == 1 ? "" : "s")") + "\n")
        term.print(diags, toStdout: true)
      }
      let n = loaded.diagnostics.count
      term.out(
        "\(n) environment\(n == 1 ? "" : "s") checked: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s").\n"
      )
      if errors > 0 { throw ExitCode.failure }
    }
  }
}
