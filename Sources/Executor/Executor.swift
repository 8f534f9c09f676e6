// Executor
