"""The desk's report builders, shared by the admin's report pages and the operator
commands: results (tender report, final results, press release) and lists (deliveries,
returns, audit history, CSV).
"""
