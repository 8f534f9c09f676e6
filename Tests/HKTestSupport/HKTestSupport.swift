public enum HKTestSupport {}
