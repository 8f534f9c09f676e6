// scripts/release replaces "unknown" with the commit for a release build, then restores it.
let buildCommit = "unknown"
