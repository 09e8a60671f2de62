"""Every write of the domain goes through these services.

Each locks the row (select_for_update), re-checks the state and the rules with the
`now` it is given, runs the django-fsm transition, saves the fields it changed and
records a history row in the same transaction. Nothing else writes a state field
(the fields are FSM-protected, and saves check the state they started from).
"""
