# One image for every process of the portal: web (gunicorn), worker, beat and cloudsim.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app

COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# The translations, compiled by Babel (requirements.txt); the .mo files are not in the repository.
RUN pybabel compile -d locale -D django
# collectstatic needs settings that import; the real secret comes from the environment at run time.
RUN SECRET_KEY=build-only DEBUG=false VAR_DIR=/tmp/build-var python manage.py collectstatic --noinput

RUN useradd --system --home /app portal && mkdir -p /app/var && chown portal /app/var
USER portal
EXPOSE 8000 9100
CMD ["gunicorn", "--config", "gunicorn.conf.py", "portal.wsgi"]
