"""Use cases of the document service: recording case events, signing, attachments, dossiers."""
