from django.contrib import admin
from django.urls import include, path

from exchange.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # The holder portal, at the root.
    path("", include("holders.urls")),
]
