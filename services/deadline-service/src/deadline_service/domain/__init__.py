"""The obligation rules engine (pure: no I/O, no clock; "today" is always an input)."""
