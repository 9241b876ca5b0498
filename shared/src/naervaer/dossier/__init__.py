"""The tamper-evident record's pure core, shared by the document service and the offline verifier.

``canonical`` (canonical JSON and SHA-256), ``keys`` (Ed25519 keys with validity periods),
``chain`` (the audit trail's hash chain and its verification) and ``verify`` (a dossier ZIP
checked offline). No I/O frameworks here: ``naervaer verify`` imports this without any service.
"""
