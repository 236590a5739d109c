# syntax=docker/dockerfile:1
# trailproof's container image (README "Installing"):
#   docker build -t trailproof .
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#       trailproof validate-logs --trail-arn ARN --start-time -24h
# Builder and runtime are both Debian 12 (bookworm), so the binary's glibc is the runtime's.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
# The cache mounts keep the registry and the build between image builds; the binary is copied out
# of the cached target directory, which does not reach the next stage by itself.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --profile dist --locked \
    && cp target/dist/trailproof /usr/local/bin/trailproof

# distroless/cc: glibc, libgcc, CA certificates and tzdata, no shell or package manager; the
# :nonroot tag runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/trailproof /usr/local/bin/trailproof
USER nonroot:nonroot
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/trailproof"]
CMD ["--help"]
