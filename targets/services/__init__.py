"""Every write goes through a function in this package (DESIGN §2, STYLE).

- ``plans``      — importing plan files (units, plans, areas, targets, milestones)
- ``entries``    — the progress-entry workflow and the entries file import
- ``evaluation`` — judging every target at a date and recording assessments
"""
