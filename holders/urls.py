"""The holder portal, at the site's root (the clerks' desk is /admin/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from holders import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("prospectus/", views.prospectus, name="prospectus"),
    # Accounts.
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sign-up/", views.sign_up, name="sign_up"),
    path("accounts/sign-up/sent/", views.sign_up_done, name="sign_up_done"),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        views.AcceptInviteView.as_view(),
        name="accept_invite",
    ),
    # The offer and the forms of each series.
    path("offers/<slug:slug>/", views.offer_page, name="offer"),
    path(
        "offers/<slug:slug>/series/<slug:series_slug>/letter-of-transmittal/",
        views.tender_form,
        name="tender_form",
    ),
    path(
        "offers/<slug:slug>/series/<slug:series_slug>/guaranteed-delivery/",
        views.gd_form,
        name="gd_form",
    ),
    # Documents, by their references.
    path("tenders/<str:reference>/", views.tender_status, name="tender_status"),
    path("tenders/<str:reference>/receipt/", views.tender_receipt, name="tender_receipt"),
    path("tenders/<str:reference>/withdraw/", views.withdraw, name="withdraw"),
    path(
        "tenders/<str:reference>/deficiencies/<int:deficiency_id>/cure/",
        views.cure,
        name="cure",
    ),
    path("withdrawals/<str:reference>/", views.withdrawal, name="withdrawal"),
    path(
        "guaranteed-deliveries/<str:reference>/",
        views.guaranteed_delivery,
        name="guaranteed_delivery",
    ),
    path(
        "guaranteed-deliveries/<str:reference>/deliver/",
        views.gd_deliver,
        name="gd_deliver",
    ),
]
