"""Outcomes: measurement-based care (change from baseline, response, remission, course charts).

`metrics` and `charts` are pure (no Django); `policy` reads the clinic's settings; `api` is
the Ninja router for POST /api/v1/outcomes/classify.
"""
