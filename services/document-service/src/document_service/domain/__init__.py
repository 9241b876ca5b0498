"""The document service's pure logic: documents from case events, signatures, attachments,
the audit trail's chain and the case at a glance. No I/O, no clock, no randomness."""
