from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = "Exchange offer"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The outbox wakes its sender through a signal, so the domain never imports Celery.
        from exchange.jobs.tasks import enqueue_queued_mail
        from exchange.models import mail_queued

        mail_queued.connect(enqueue_queued_mail, dispatch_uid="exchange.enqueue_queued_mail")

        from django.contrib.auth.signals import user_logged_in

        from exchange.middleware import mark_signed_in

        user_logged_in.connect(mark_signed_in, dispatch_uid="exchange.mark_signed_in")
