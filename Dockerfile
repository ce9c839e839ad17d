FROM python:3.11-slim
WORKDIR /app
# the TrueType CJK font the 成交确认书 PDF embeds (auction/documents/fonts.py)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY auction ./auction
COPY clients ./clients
COPY loadtests ./loadtests
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .
ENV AUCTION_HOST=0.0.0.0 AUCTION_PORT=8000
EXPOSE 8000
CMD ["auction", "serve"]
