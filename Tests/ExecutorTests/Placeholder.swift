import Testing

@Test func placeholderExecutorTests() {}
