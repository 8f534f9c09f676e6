// HKCommands
