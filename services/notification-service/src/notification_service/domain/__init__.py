"""Who hears what, when, and in which words: pure rules, no I/O, no clock of their own."""
