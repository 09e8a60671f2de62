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
