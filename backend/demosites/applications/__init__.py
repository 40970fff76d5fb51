"""Applications (申报) and their stage machine, from a unit's draft to the award."""
