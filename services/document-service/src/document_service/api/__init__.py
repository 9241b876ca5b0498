"""The document API (port 8004)."""
