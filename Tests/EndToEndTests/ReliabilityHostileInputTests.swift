import Config
import Foundation
import HKTestSupport
import Model
import Store
import Testing

/// Issue 6, hostile inputs: generated cases (seeded, so a failure reproduces) run through the
/// real hk binary — `validate`, then `apply --yes` when validation refuses the input (apply plans
/// first, then would write), else `plan`.
///
/// For every invocation: no crash (no signal, no Swift trap, no hang), an exit code of 0, 1, 2
/// or 64, and on failure a positioned diagnostic (`file:line:col: error: …`) or a clear
/// `Error: …` message. The state database (a real one with a recorded revision) must be
/// byte-for-byte unchanged after every case. No kops and no aws is ever reached: `HK_KOPS` and
/// `HK_AWS` point at files that do not exist.
extension Reliability {
  @Suite(.serialized) struct HostileInputs {
    @Test func yamlSyntaxErrorsAtRandomOffsets() throws {
      try HostileHarness.run("yaml syntax errors at random offsets", HostileCorpus.syntax())
    }

    @Test func aWrongTypeOnEveryTypedField() throws {
      try HostileHarness.run("wrong type on every typed field", HostileCorpus.wrongTypes(), exactPositions: true)
    }

    @Test func aliasBombsDeepNestingAndHugeFiles() throws {
      try HostileHarness.run("alias/anchor bombs", HostileCorpus.bombs())
      try HostileHarness.run("deeply nested documents", HostileCorpus.nesting())
      try HostileHarness.run("50 MB files", HostileCorpus.huge())
      try HostileHarness.run("wide documents (quadratic-time guard)", HostileCorpus.wide())
    }

    @Test func nulBytesInvalidUTF8AndDuplicateKeys() throws {
      try HostileHarness.run("NUL bytes and invalid UTF-8", HostileCorpus.encoding())
      try HostileHarness.run("duplicate keys", HostileCorpus.duplicates())
    }

    @Test func pathTraversalAndShellMetacharactersInNames() throws {
      try HostileHarness.run("../ and shell metacharacters in names", HostileCorpus.names())
    }

    @Test func hostileStateDatabasePaths() throws {
      try HostileHarness.run("hostile state-db paths", HostileCorpus.stateDatabases())
    }

    @Test func theCorpusHasAtLeast500Cases() {
      let count =
        HostileCorpus.syntax().count + HostileCorpus.wrongTypes().count + HostileCorpus.bombs().count
        + HostileCorpus.nesting().count + HostileCorpus.huge().count + HostileCorpus.wide().count + HostileCorpus.encoding().count
        + HostileCorpus.duplicates().count + HostileCorpus.names().count + HostileCorpus.stateDatabases().count
      #expect(count >= 500, "only \(count) generated cases")
    }
  }
}

// MARK: - Cases

/// One hostile input: files written over a copy of the sample repository (or a hostile state
/// database), the commands to run, and what a failure must look like.
struct HostileInput: Sendable {
  enum Commands: Sendable {
    /// `validate ENV`, then `apply ENV --yes` when validate refuses, else `plan ENV`.
    case content(env: String)
    /// Every command that takes an environment name, with `name`.
    case name(String)
    /// `validate` and `plan` over all environments (hostile directory names on disk).
    case allEnvironments
    /// `validate ENV` only (wide documents: loading is what they stress).
    case validateOnly(env: String)
    /// Every command that opens the state database.
    case stateDatabase
  }

  enum Expect: Sendable, Equatable {
    /// A failure must be a diagnostic with a position (in `file`, at `line` when given).
    case positioned(file: String?, line: Int?)
    /// A failure must be a positioned diagnostic or an `Error: …` message.
    case clearError
  }

  /// How the state database is made hostile.
  enum StateDB: Sendable {
    case directory, directoryWithFiles, notSQLite, truncated, corruptedPages, corruptedHeader, empty
    case fifo, devNull, parentIsAFile, symlinkLoop, danglingSymlink
    case readOnlyFile, readOnlyDirectory, unreadableFile
  }

  var category: String
  var label: String
  /// Repository-relative files to write (a closure, so 50 MB inputs exist only while they run).
  var files: [(path: String, make: @Sendable () -> [UInt8])] = []
  /// Extra environment directories to create (copies of dev), by name.
  var extraEnvironments: [String] = []
  var commands: Commands = .content(env: "dev")
  var expect: Expect = .positioned(file: nil, line: nil)
  var stateDB: StateDB? = nil
}
