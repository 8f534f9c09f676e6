import ArgumentParser
import HKCommands

/// The `hk` executable: argument parsing and the work live in ``HKCommands``.
@main
extension HK {}
