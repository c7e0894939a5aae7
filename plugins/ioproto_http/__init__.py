"""The HTTP/WebSocket layer: its records (:mod:`.records`) are public."""
