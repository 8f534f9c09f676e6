import Foundation
import Model

/// One parsed command line, handed to a command's implementation.
struct Invocation {
  var rt: Runtime
  var flags: ParsedFlags
  /// Positional arguments after the command words.
  var args: [String]
  /// The command words, e.g. `["update", "cluster"]`.
  var path: [String]
  /// The cluster name chosen by `--name` (or `KOPS_CLUSTER_NAME`), before positional arguments.
  var nameFlag: String { flags.string("name") }
}

/// A cobra command: name, aliases, flags, children and an optional implementation.
struct CommandNode {
  var name: String
  var aliases: [String] = []
  var use: String
  var short: String
  var flags: [FlagSpec] = []
  /// Flags inherited by the children (e.g. `get -o`).
  var persistentFlags: [FlagSpec] = []
  var normalize: [String: String] = [:]
  var children: [CommandNode] = []
  var run: ((Invocation) throws -> Void)? = nil

  func child(_ word: String) -> CommandNode? {
    children.first { $0.name == word || $0.aliases.contains(word) }
  }
}

/// The kops command tree for one version, and the dispatcher.
enum CommandTree {
  static func globalFlags(_ rt: Runtime) -> [FlagSpec] {
    [
      FlagSpec("config", .string, help: "yaml config file (default is $HOME/.kops.yaml)"),
      FlagSpec(
        "name", .string, default: rt.env["KOPS_CLUSTER_NAME"] ?? "",
        help: "Name of cluster. Overrides KOPS_CLUSTER_NAME environment variable"),
      FlagSpec(
        "state", .string,
        help: "Location of state storage (kops 'config' file). Overrides KOPS_STATE_STORE environment variable"),
      FlagSpec("v", short: "v", .level, default: "0", help: "number for the log level verbosity"),
      FlagSpec("help", short: "h", .bool, default: "false", help: "help for kops"),
    ]
  }

  static func build(_ rt: Runtime) -> CommandNode {
    let v = rt.version
    var root = CommandNode(name: "kops", use: "kops", short: "kOps is Kubernetes Operations.")

    var versionFlags = [FlagSpec("short", .bool, default: "false", help: "only print the main kOps version. Useful for scripting.")]
    if v.atLeast(1, 24) {
      versionFlags.append(
        FlagSpec("server", .bool, default: "false", help: "show the kOps version that made the last change to the state store."))
    }
    root.children.append(
      CommandNode(
        name: "version", use: "version", short: "Print the kOps version information.", flags: versionFlags,
        run: VersionCommand.run))

    let filename = FlagSpec("filename", short: "f", .stringSlice, help: "Filename to use to create the resource")
    root.children.append(
      CommandNode(
        name: "create", use: "create {-f FILENAME}...", short: "Create a resource by command line, filename or stdin.",
        flags: [filename], run: CreateCommand.run))
    root.children.append(
      CommandNode(
        name: "replace", use: "replace {-f FILENAME}", short: "Replace cluster resources.",
        flags: [
          FlagSpec("filename", short: "f", .stringSlice, help: "A list of one or more files separated by a comma."),
          FlagSpec("force", .bool, default: "false", help: "Force any changes, which will also create any non-existing resource"),
        ], run: ReplaceCommand.run))

    var delete = CommandNode(
      name: "delete", use: "delete {-f FILENAME}...", short: "Delete clusters, instancegroups, instances, and secrets.")
    delete.children.append(
      CommandNode(
        name: "instancegroup", aliases: ["instancegroups", "ig"], use: "instancegroup INSTANCE_GROUP",
        short: "Delete instance group.",
        flags: [FlagSpec("yes", short: "y", .bool, default: "false", help: "Specify --yes to immediately delete the instance group")],
        run: DeleteInstanceGroupCommand.run))
    root.children.append(delete)

    var get = CommandNode(
      name: "get", use: "get", short: "Get one or many resources.",
      persistentFlags: [FlagSpec("output", short: "o", .string, default: "table", help: "output format. One of: table, yaml, json")],
      run: GetCommand.runDeprecatedGet)
    if rt.release.hasGetAll {
      get.children.append(
        CommandNode(name: "all", use: "all [CLUSTER]", short: "Display all resources for a cluster.", run: GetCommand.runAll))
    }
    get.children.append(
      CommandNode(
        name: "clusters", aliases: ["cluster"], use: "clusters [CLUSTER]...", short: "Get one or many clusters.",
        flags: [FlagSpec("full", .bool, default: "false", help: "Show fully populated configuration")], run: GetCommand.runClusters))
    get.children.append(
      CommandNode(
        name: "instancegroups", aliases: ["instancegroup", "ig"], use: "instancegroups [INSTANCE_GROUP]...",
        short: "Get one or many instance groups.", run: GetCommand.runInstanceGroups))
    root.children.append(get)

    var update = CommandNode(name: "update", use: "update", short: "Update a cluster.")
    update.children.append(
      CommandNode(
        name: "cluster", use: "cluster [CLUSTER]", short: "Update a cluster.", flags: UpdateCommand.flags(rt), run: UpdateCommand.run))
    root.children.append(update)

    var rolling = CommandNode(name: "rolling-update", aliases: ["rollingupdate"], use: "rolling-update", short: "Rolling update a cluster.")
    rolling.children.append(
      CommandNode(
        name: "cluster", use: "cluster [CLUSTER]", short: "Rolling update a cluster.", flags: RollingUpdateCommand.flags(rt),
        normalize: [
          "ig": "instance-group", "instance-groups": "instance-group", "role": "instance-group-roles",
          "roles": "instance-group-roles", "instance-group-role": "instance-group-roles",
        ], run: RollingUpdateCommand.run))
    root.children.append(rolling)

    var validate = CommandNode(name: "validate", use: "validate", short: "Validate a kOps cluster.")
    validate.children.append(
      CommandNode(
        name: "cluster", use: "cluster [CLUSTER]", short: "Validate a kOps cluster.", flags: ValidateCommand.flags(rt),
        run: ValidateCommand.run))
    root.children.append(validate)

    var export = CommandNode(name: "export", use: "export", short: "Export configuration.")
    export.children.append(
      CommandNode(
        name: "kubeconfig", aliases: ["kubecfg"], use: "kubeconfig [CLUSTER | --all]", short: "Export kubeconfig.",
        flags: ExportKubeconfigCommand.flags(rt), run: ExportKubeconfigCommand.run))
    root.children.append(export)
    return root
  }

  /// Runs one command line; returns the exit code.
  static func dispatch(_ argv: [String], rt: Runtime) -> Int32 {
    let root = build(rt)
    let globals = globalFlags(rt)
    let (chain, words) = resolve(argv, root: root, globals: globals)
    guard let node = chain.last else { return 1 }
    let commandPath = chain.dropFirst().map(\.name)

    // Flags: global + persistent flags of the ancestors + the command's own.
    var specs = globals
    for n in chain { specs.append(contentsOf: n.persistentFlags) }
    specs.append(contentsOf: node.flags)
    let parser = FlagParser(specs: specs, normalize: node.normalize)
    let fullUse = (["kops"] + commandPath.dropLast() + [node.use]).joined(separator: " ")

    // Unknown commands come before flag errors in cobra (Find runs first).
    let consumed = chain.count - 1
    let extra = Array(words.dropFirst(consumed))
    if consumed == 0 && extra.first == "help" {
      let target = words.dropFirst().reduce(Optional(root)) { node, word in node?.child(word) } ?? root
      Console.out(
        target.short + "\n\n"
          + usage(target, fullUse: (["kops"] + words.dropFirst()).joined(separator: " "), specs: specs + target.flags, globals: globals))
      return 0
    }
    if node.run == nil, let first = extra.first {
      let parent = (["kops"] + commandPath).joined(separator: " ")
      Console.err("Error: unknown command \(goQuote(first)) for \(goQuote(parent))\nRun '\(parent) --help' for usage.\n")
      return 1
    }

    let flags: ParsedFlags
    var positional: [String]
    do {
      (flags, positional) = try parser.parse(argv)
    } catch {
      Console.err("Error: \(error.message)\n")
      Console.err(usage(node, fullUse: fullUse, specs: specs, globals: globals))
      return 1
    }
    if flags.bool("help") {
      Console.out(node.short + "\n\n" + usage(node, fullUse: fullUse, specs: specs, globals: globals))
      return 0
    }
    guard let run = node.run else {
      Console.out(node.short + "\n\n" + usage(node, fullUse: fullUse, specs: specs, globals: globals))
      return 0
    }
    // Drop the command words (their first occurrences) from the positional arguments.
    for word in words.prefix(consumed) {
      if let i = positional.firstIndex(of: word) { positional.remove(at: i) }
    }
    let invocation = Invocation(rt: rt, flags: flags, args: positional, path: commandPath)
    do {
      try run(invocation)
      return 0
    } catch let e as KopsError {
      Console.err("Error: \(e.message)\n")
      if e.showUsage { Console.err(usage(node, fullUse: fullUse, specs: specs, globals: globals)) }
      return 1
    } catch let e as KopsExit {
      return e.code
    } catch {
      Console.err("Error: \(error)\n")
      return 1
    }
  }

  /// Finds the command the words of `argv` name (cobra's `Find`): returns the chain from the
  /// root and the non-flag words of the command line.
  static func resolve(_ argv: [String], root: CommandNode, globals: [FlagSpec]) -> ([CommandNode], [String]) {
    var valueFlags = Set<String>()
    var valueShorts = Set<Character>()
    func collect(_ n: CommandNode) {
      for f in n.flags + n.persistentFlags where f.noOptDefault == nil {
        valueFlags.insert(f.name)
        if let c = f.short { valueShorts.insert(c) }
      }
      n.children.forEach(collect)
    }
    collect(root)
    for f in globals where f.noOptDefault == nil {
      valueFlags.insert(f.name)
      if let c = f.short { valueShorts.insert(c) }
    }
    var words: [String] = []
    var i = 0
    while i < argv.count {
      let a = argv[i]
      i += 1
      if a == "--" {
        words.append(contentsOf: argv[i...])
        break
      }
      if a.hasPrefix("--") {
        if !a.contains("="), valueFlags.contains(String(a.dropFirst(2))) { i += 1 }
        continue
      }
      if a.hasPrefix("-") && a.count > 1 {
        if a.count == 2, let c = a.last, valueShorts.contains(c) { i += 1 }
        continue
      }
      words.append(a)
    }
    var chain = [root]
    for w in words {
      guard let next = chain.last?.child(w) else { break }
      chain.append(next)
    }
    return (chain, words)
  }

  static func usage(_ node: CommandNode, fullUse: String, specs: [FlagSpec], globals: [FlagSpec]) -> String {
    var out = "Usage:\n  \(fullUse)"
    if node.children.isEmpty { out += " [flags]" } else { out += " [command]" }
    out += "\n"
    if !node.children.isEmpty {
      out += "\nAvailable Commands:\n"
      for c in node.children { out += "  " + c.name.padding(toLength: 15, withPad: " ", startingAt: 0) + c.short + "\n" }
    }
    let globalNames = Set(globals.map(\.name))
    let local = specs.filter { !globalNames.contains($0.name) }
    if !local.isEmpty { out += "\nFlags:\n" + flagTable(local) }
    out += "\nGlobal Flags:\n" + flagTable(globals.filter { $0.name != "help" })
    if !node.children.isEmpty { out += "\nUse \"\(fullUse) [command] --help\" for more information about a command.\n" }
    return out
  }

  static func flagTable(_ specs: [FlagSpec]) -> String {
    let rows = specs.sorted { $0.name < $1.name }.map { s -> (String, String) in
      var left = s.short.map { "  -\($0), " } ?? "      "
      left += "--" + s.name
      if !s.kind.usageType.isEmpty { left += " " + s.kind.usageType }
      if s.kind != .bool, let noOpt = s.noOptDefault { left += "[=\(noOpt)]" }
      var help = s.help
      let zero = ["", "false", "0", "0s"].contains(s.defaultValue)
      if !zero {
        help += " (default \(s.kind == .string ? goQuote(s.defaultValue) : s.defaultValue))"
      }
      return (left, help)
    }
    let width = (rows.map(\.0.count).max() ?? 0) + 3
    return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + $0.1 + "\n" }.joined()
  }
}

/// Cluster-name selection exactly as kops's `rootCommand` does it.
enum ClusterName {
  /// `ProcessArgs`: at most one positional cluster name, and not together with `--name`.
  static func processArgs(_ inv: Invocation) throws(KopsError) -> String {
    let args = inv.args
    if args.isEmpty { return inv.nameFlag }
    if args.count == 1 && inv.nameFlag.isEmpty { return args[0] }
    var text = "\nFound multiple arguments which look like a cluster name\n"
    if !inv.nameFlag.isEmpty { text += "\t\(goQuote(inv.nameFlag)) (via flag)\n" }
    for a in args { text += "\t\(goQuote(a)) (as argument)\n" }
    text += "\nThis often happens if you specify an argument to a boolean flag without using =\n"
    text += "For example: use `--bastion=true` or `--bastion`, not `--bastion true`\n\n"
    Console.out(text)
    if args.count == 1 { throw KopsError("cannot specify cluster via --name and positional argument") }
    throw KopsError("expected a single <clustername> to be passed as an argument")
  }

  /// `clusterNameArgs`: `--name`, then the positional name, then the kubectl context.
  static func required(_ inv: Invocation) throws(KopsError) -> String {
    let name = try processArgs(inv)
    if !name.isEmpty { return name }
    if let fromContext = fromKubeconfig(inv.rt) { return fromContext }
    throw KopsError("--name is required")
  }

  /// The cluster of the current kubectl context (kops's `ClusterName(true)`), printing the
  /// notice kops prints; nil (with kops's warning) when there is none.
  static func fromKubeconfig(_ rt: Runtime) -> String? {
    let config = Kubeconfig.loadMerged(rt)
    guard let current = config.currentContext, !current.isEmpty else {
      Klog.warning("root.go:308", "no context set in kubecfg")
      return nil
    }
    guard let context = config.context(named: current) else {
      Klog.warning("root.go:313", "context \(goQuote(current)) in kubecfg not found")
      return nil
    }
    guard let cluster = context.cluster, !cluster.isEmpty else {
      Klog.warning("root.go:315", "context \(goQuote(current)) in kubecfg did not have a cluster")
      return nil
    }
    Console.err("Using cluster from kubectl context: \(cluster)\n\n")
    return cluster
  }
}
