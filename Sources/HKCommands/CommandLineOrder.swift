import ArgumentParser
import Foundation
import Model
import Operations

extension HK {
  /// Parses the command line as people type it: global options before the command too
  /// (`hk --state-db x plan`), and a suggestion for a misspelt command (`hk plna`). An error's
  /// message passes the output boundary (``Redaction``, one line per line with control
  /// characters escaped) before it is printed: kops's and aws's messages end up in errors.
  public static func main() async {
    let arguments = Array(CommandLine.arguments.dropFirst())
    if let message = CommandLineOrder.unknownCommand(arguments) {
      FileHandle.standardError.write(Data((message + "\n").utf8))
      Foundation.exit(ExitCode.validationFailure.rawValue)
    }
    do {
      var command = try parseAsRoot(CommandLineOrder.hoistingGlobalOptions(arguments))
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch {
      let (message, code) = report(error)
      if code == .success {
        if !message.isEmpty { FileHandle.standardOutput.write(Data((message + "\n").utf8)) }
      } else if !message.isEmpty {
        let safe = message.split(separator: "\n", omittingEmptySubsequences: false).map { OutputEscaping.text(String($0)) }
        FileHandle.standardError.write(Data((Redaction.redact(text: safe.joined(separator: "\n")) + "\n").utf8))
      }
      Foundation.exit(code.rawValue)
    }
  }
}

/// Rewrites of hk's command line before argument parsing.
enum CommandLineOrder {
  /// Global options that take a value (``GlobalOptions``).
  static let valued: Set<String> = ["--root", "--state-db", "--kops", "--kops-map", "--aws"]
  /// Global flags.
  static let flags: Set<String> = ["--no-color"]
  /// hk's commands (and argument-parser's `help`).
  static var commands: [String] { HK.configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"] }

  /// Moves global options written before the command to after it (argument-parser reads a
  /// command's options only after its name); before a `--` terminator when there is one.
  static func hoistingGlobalOptions(_ arguments: [String]) -> [String] {
    var hoisted: [String] = []
    var i = 0
    while i < arguments.count {
      let a = arguments[i]
      let name = a.split(separator: "=", maxSplits: 1).first.map(String.init) ?? a
      if flags.contains(a) {
        hoisted.append(a)
        i += 1
      } else if valued.contains(name) && a.contains("=") {
        hoisted.append(a)
        i += 1
      } else if valued.contains(a) && i + 1 < arguments.count {
        hoisted += [a, arguments[i + 1]]
        i += 2
      } else {
        break
      }
    }
    guard !hoisted.isEmpty, i < arguments.count else { return arguments }
    var rest = Array(arguments[i...])
    let end = rest.firstIndex(of: "--") ?? rest.endIndex
    rest.insert(contentsOf: hoisted, at: end)
    return rest
  }

  /// "unknown command 'plna'; did you mean 'plan'?" when the first word (after any global
  /// options) is no command but close to one; nil otherwise (the parser reports the rest).
  static func unknownCommand(_ arguments: [String]) -> String? {
    guard let word = hoistingGlobalOptions(arguments).first, !word.hasPrefix("-"), !commands.contains(word) else { return nil }
    guard let suggestion = EditDistance.closest(to: word, in: commands, maxDistance: 2) else { return nil }
    return "Error: unknown command '\(word)'; did you mean '\(suggestion)'?\nSee 'hk --help' for the commands."
  }
}
