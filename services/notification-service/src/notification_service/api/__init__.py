"""The notification API (port 8003): deliveries, recipients, policy, templates, test sends."""
