"""The terms of the offer as arithmetic: business days and NYSE trading days in New York
time, 30/360 day counts, the discount notes' accreted value, money and its one rounding.

Pure and database-free: nothing here imports Django's ORM or the rest of the project, so
every figure can be checked by hand and tested without a database.
"""
