print("fake-kops")
