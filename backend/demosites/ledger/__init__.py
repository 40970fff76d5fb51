"""The work ledger (台账): units, annual work plans with measurable targets, entries, compliance."""
