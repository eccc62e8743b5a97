# chatdouble in a container: `docker build -t chatdouble .` then `docker run -p 8000:8000 chatdouble`.
# The tokenizer vocabularies come inside the bpe-openai wheel installed here, so the running
# container needs no network. Mount a config file and pass `--config` to change the defaults.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY pyproject.toml README.md MANIFEST.in /src/
COPY build_backend /src/build_backend
COPY server /src/server
COPY backends /src/backends
COPY chatdouble /src/chatdouble
RUN pip install /src \
    && rm -rf /src \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin chatdouble

WORKDIR /app
USER chatdouble
EXPOSE 8000

HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"]

CMD ["chatdouble", "serve", "--host", "0.0.0.0", "--port", "8000"]
