"""The clerks' desk: the Django admin of the offer domain, in New York time.

One module per subject (offers, tenders, notices, registration and special interest,
holders, jobs, history); the shared machinery is in base, the buttons in transitions,
and the pages beyond model admins in review, dashboard and reports. The desk reaches the
domain through its models (for display), services (every write) and selectors (every
read beyond a model's own fields); it never imports the holder portal.

Django's autodiscovery imports this package; importing the modules registers them.
"""

from django.conf import settings
from django.contrib import admin

from exchange.admin import (  # noqa: F401 (imported to register their model admins)
    atop,
    history,
    holders,
    jobs,
    notices,
    offers,
    outbox,
    registration,
    special_interest,
    tenders,
)

# The clerks work for the exchange agent, not for "Django administration".
admin.site.site_header = f"{settings.DESK_AGENT_NAME}, Exchange Agent — Tender desk"
admin.site.site_title = f"{settings.DESK_AGENT_NAME} tender desk"
admin.site.index_title = "Tender desk"
# The app list beside every page took a quarter of a 1280 px screen from the changelists;
# the header's breadcrumbs and the index reach every list.
admin.site.enable_nav_sidebar = False
