from django.contrib import admin
from django.urls import include, path

from exchange.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # The holder portal, at the root.
    path("", include("holders.urls")),
]

# Error pages people understand; 403 and 404 are logged at INFO, without a traceback.
handler403 = "exchange.middleware.permission_denied"
handler404 = "exchange.middleware.page_not_found"
handler500 = "exchange.middleware.server_error"
