FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY auction ./auction
COPY clients ./clients
COPY loadtests ./loadtests
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .
ENV AUCTION_HOST=0.0.0.0 AUCTION_PORT=8000
EXPOSE 8000
CMD ["auction", "serve"]
