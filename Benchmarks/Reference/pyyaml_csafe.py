"""A comparison for hk's plan-throughput benchmark (P1): PyYAML's CSafeLoader (libyaml-backed).

Loads every document of each file named in LISTFILE (one path a line) into Python objects.
Prints "files=N documents=N" so the harness can check the work was done.
"""
import sys

import yaml

files = documents = 0
with open(sys.argv[1]) as listing:
  for path in listing.read().split():
    with open(path, "rb") as f:
      for _ in yaml.load_all(f.read(), Loader=yaml.CSafeLoader):
        documents += 1
    files += 1
print(f"files={files} documents={documents}")
