"""The ``tcp`` layer: reassembled TCP byte streams. Its records (:mod:`.records`) are public.

No decoder produces this layer: capture sources do (the ``pcap`` and ``live`` sources from
packets, the ``proxy`` from the bytes it relays), and the ``http`` layer rides on it.
"""
