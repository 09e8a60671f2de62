FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# collectstatic needs settings to import; these throwaway values never reach a container.
RUN DEBUG=false SECRET_KEY=build-only-$(head -c 48 /dev/urandom | base64 | tr -d '\n') \
    ALLOWED_HOSTS=build python manage.py collectstatic --noinput --verbosity 0
RUN useradd --create-home desk
USER desk
EXPOSE 8000
CMD ["gunicorn", "exchange.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
