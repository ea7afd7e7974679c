# usermock as a small static image: no shell, no libc, non-root.
#
#   docker build -t usermock .
#   docker run --rm -p 8080:8080 usermock
#
# Builds on any architecture Docker's Rust Alpine image supports: Alpine's
# native target is musl, so the binary is static without cross-compiling.

FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY fixtures ./fixtures
COPY scenarios ./scenarios
RUN cargo build --release --locked \
 && cp target/release/usermock /usermock

FROM scratch
COPY --from=build /usermock /usermock
# Mount points for your own files (set USERMOCK_FIXTURES / USERMOCK_SCENARIOS
# to use them); the image itself serves the embedded fixtures and scenarios.
ENV USERMOCK_LISTEN=0.0.0.0:8080
USER 65534:65534
EXPOSE 8080
# The binary probes its own /__admin/health: no curl or shell needed.
HEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=3 CMD ["/usermock", "healthcheck"]
# SIGTERM (docker stop) drains in-flight requests and exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usermock"]
