#!/usr/bin/python3
"""Shuffle each data set once and split it into NAME_train.csv / NAME_test.csv.

Run from anywhere: /usr/bin/python3 examples/data/split.py
Deterministic: Python's random.Random(SEED).shuffle over the data rows (the
header is kept), then the first 80% (rounded down) of the shuffled rows is the
training file and the rest the test file. Rows are copied as text, byte for
byte. Standard library only.
"""
import os
import random

SEED = 20240601
TRAIN_FRACTION = 0.8
NAMES = ["breast_cancer", "wine", "digits", "diabetes"]

here = os.path.dirname(os.path.abspath(__file__))
for name in NAMES:
    with open(os.path.join(here, name + ".csv"), newline="") as f:
        lines = f.read().splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    random.Random(SEED).shuffle(rows)
    cut = int(len(rows) * TRAIN_FRACTION)
    for part, chunk in (("train", rows[:cut]), ("test", rows[cut:])):
        with open(os.path.join(here, "%s_%s.csv" % (name, part)), "w", newline="") as f:
            f.write(header)
            f.writelines(chunk)
    print("%s: %d train, %d test" % (name, cut, len(rows) - cut))
