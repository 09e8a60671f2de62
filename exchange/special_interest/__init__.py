"""Registration defaults and special interest (prospectus, "The Exchange Offer - Special
Interest"): `detection` finds the defaults from the milestones recorded and the clock,
`accrual` keeps the per-day ledger, `payments` pays it on the interest payment dates.
README "Registration defaults and special interest" states the rules and the choices."""
