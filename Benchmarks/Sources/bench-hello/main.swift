// The reference for hk's start-up benchmark (P5): a bare Swift executable, release mode.
print("hello")
