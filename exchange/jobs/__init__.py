"""The scheduled jobs: what is due (due), running one job (runner), and the Celery tasks
that carry them (tasks). Each job calls one service; the services never import this package.
"""
