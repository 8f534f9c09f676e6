import Testing
@Test func placeholderPlannerTests() {}
