# returnflow's image: one image for every process of docker-compose.yml (worker, gateway, codec
# server, set-up job, and the carrier sandbox and SMTP sink of a trial stack); the command picks
# the process. Built from the project's pinned dependencies (constraints.txt).
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user, and the runtime directory it owns (carrier ledger, seller chat, order
# files, dead letters, logs): a volume shared by every returnflow container of the stack.
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin returnflow \
    && install -d -o returnflow -g returnflow -m 0750 /var/lib/returnflow

WORKDIR /app
COPY pyproject.toml constraints.txt README.md worker.py starter.py ./
COPY domain/ domain/
COPY plumbing/ plumbing/
COPY client/ client/
COPY codec_server/ codec_server/
COPY dead_letters/ dead_letters/
COPY store/ store/
COPY reminders/ reminders/
COPY workflows/ workflows/
COPY activities/ activities/
COPY gateway/ gateway/
COPY customer_page/ customer_page/
COPY carrier_sandbox/ carrier_sandbox/
COPY marketplace_sandbox/ marketplace_sandbox/
COPY mail_sink/ mail_sink/
COPY devstack/ devstack/
COPY monitoring/ monitoring/
COPY examples/ examples/
COPY schemas/ schemas/
# Compiled here, where the files are writable: the workflow sandbox imports the workflow modules
# again for every workflow run, and PYTHONDONTWRITEBYTECODE would have it compile them each time.
RUN pip install -c constraints.txt . && python -m compileall -q /app

USER returnflow
ENV RETURNFLOW_VAR_DIR=/var/lib/returnflow
VOLUME ["/var/lib/returnflow"]
EXPOSE 8000 8234
CMD ["python", "worker.py"]
