"""Applicant units (申报主体): schools, university units, enterprises, communities, villages."""
