"""Reads of the offer domain that the desk, the portal, the jobs and the commands share.

Nothing here writes; writes are services (exchange.services).
"""
