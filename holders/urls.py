"""The holder portal, at the site's root (the clerks' desk is /admin/)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from holders.views import (
    accounts,
    cures,
    guaranteed_delivery,
    guarantees,
    letter,
    notices,
    offer,
    withdrawal,
)

app_name = "portal"

urlpatterns = [
    path("", offer.home, name="home"),
    path("prospectus/", offer.prospectus, name="prospectus"),
    path("notices/", notices.notices, name="notices"),
    path("signature-guarantees/", guarantees.guarantees, name="guarantees"),
    # Accounts.
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/sign-up/", accounts.sign_up, name="sign_up"),
    path("accounts/sign-up/sent/", accounts.sign_up_done, name="sign_up_done"),
    path("accounts/password-reset/", accounts.password_reset, name="password_reset"),
    path(
        "accounts/password-reset/sent/",
        accounts.password_reset_done,
        name="password_reset_done",
    ),
    path(
        "accounts/invitation/<uidb64>/<token>/",
        accounts.AcceptInviteView.as_view(),
        name="accept_invite",
    ),
    # The offer and the forms of each series.
    path("offers/<slug:slug>/", offer.offer_page, name="offer"),
    path(
        "offers/<slug:slug>/series/<slug:series_slug>/letter-of-transmittal/",
        letter.tender_form,
        name="tender_form",
    ),
    path(
        "offers/<slug:slug>/series/<slug:series_slug>/guaranteed-delivery/",
        guaranteed_delivery.gd_form,
        name="gd_form",
    ),
    # Documents, by their references.
    path("tenders/<str:reference>/", letter.tender_status, name="tender_status"),
    path("tenders/<str:reference>/receipt/", letter.tender_receipt, name="tender_receipt"),
    path("tenders/<str:reference>/withdraw/", withdrawal.withdraw, name="withdraw"),
    path(
        "tenders/<str:reference>/deficiencies/<int:deficiency_id>/cure/",
        cures.cure,
        name="cure",
    ),
    path("withdrawals/<str:reference>/", withdrawal.withdrawal, name="withdrawal"),
    path(
        "guaranteed-deliveries/<str:reference>/",
        guaranteed_delivery.guaranteed_delivery,
        name="guaranteed_delivery",
    ),
    path(
        "guaranteed-deliveries/<str:reference>/deliver/",
        guaranteed_delivery.gd_deliver,
        name="gd_deliver",
    ),
]
