"""The ways a message travels: email (SMTP), the HR suite's webhook, and SMS over HTTP."""
