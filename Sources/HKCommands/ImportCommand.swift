import ArgumentParser
import Foundation
import Model
import Operations
import Planner

extension HK {
  /// `hk import ENV [--force]`: adopt a running cluster: live objects → a new recorded lineage,
  /// then the plan of the desired files against what was imported.
  public struct ImportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Adopt a running cluster: record its live objects (read through kops) as the environment's state.",
      discussion: """
        Checks 'kops version' against kopsVersion, reads the live Cluster and InstanceGroups, removes what \
        kops adds (creationTimestamp, generation, defaults it filled in), and records them under the \
        environment lock as a new revision with a new lineage (the cloud counts as updated, no rolls \
        owed; for strategy temporary whether the internet gateway is attached). Then prints the plan of \
        the desired files against the imported state: only the real differences. Refuses an environment \
        that already has recorded state unless --force.
        """)

    @OptionGroup public var global: GlobalOptions
    @Argument(help: "The environment to import.") public var environment: String
    @Flag(help: "Import even though the environment has recorded state (starts a new lineage).")
    public var force = false
    @Option(help: "Format of the plan printed afterwards: text, markdown or json.")
    public var format: OutputFormat = .text

    public init() {}

    public func run() async throws {
      let term = global.terminal
      let commandLine = (["hk"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
      let operation = ImportOperation(
        try global.context(term), actor: .current(command: Redaction.redact(text: commandLine)), force: force, note: { term.err($0) })
      let result = try await term.printingDiagnostics { try await operation.run(environment) }
      let env = result.environment
      let imported = result.imported
      let message =
        "Imported \(env.name): cluster \(env.settings.cluster) with \(imported.state.instanceGroupsYAML.count) instance group"
        + "\(imported.state.instanceGroupsYAML.count == 1 ? "" : "s") from \(env.settings.stateStore) (kops \(imported.kopsVersion)), "
        + "recorded as serial \(imported.state.serial), new lineage \(imported.state.lineage.prefix(8))"
        + (imported.state.igwAttached ? "; internet gateway \(env.settings.igwID ?? "") is attached: the next apply detaches it" : "")
        + ".\n"
      switch format {
      case .text:
        term.out(message + "\nDesired files vs the imported state:\n\n" + PlanRenderer(color: term.color).text(result.plan))
      case .markdown:
        term.err(message)
        term.out(PlanRenderer().markdown(result.plan).joined(separator: "\n<!-- hk:part -->\n"))
      case .json:
        term.err(message)
        term.out(PlanJSON.render(result.plan))
      }
    }
  }
}
