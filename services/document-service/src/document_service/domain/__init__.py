"""The audit trail's pure logic: how entries are hashed and chained."""
