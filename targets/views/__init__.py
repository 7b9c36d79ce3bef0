"""Web screens, one module per screen family (status, targets, entries, review, imports, alerts)."""
