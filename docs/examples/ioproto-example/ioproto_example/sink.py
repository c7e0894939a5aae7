"""The ``tally`` sink: how many records of each layer and type went by."""

from collections import Counter


class TallySink:
    def __init__(self, stream):
        self.stream = stream
        self.counts = Counter()

    def write(self, record):
        self.counts[record.layer, record.type] += 1

    def close(self):
        for (layer, kind), count in sorted(self.counts.items()):
            self.stream.write(f"{count:5} {layer} {kind}\n")


class TallySinkFactory:
    name = "tally"
    description = "count records by layer and type, print the table at the end"

    def open(self, context):
        return TallySink(context.stream)
