FROM python:3.11-slim
WORKDIR /srv/phr
COPY pyproject.toml README.md ./
COPY phr ./phr
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY contracts/PHRRegistry.json ./contracts/PHRRegistry.json
RUN pip install --no-cache-dir -e '.[postgres]' && useradd --system --uid 10001 phr && mkdir -p /var/lib/phr && chown phr /var/lib/phr
USER phr
EXPOSE 8000
CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "phr:create_app()"]
