# syntax=docker/dockerfile:1.7
# usermock as a small static image: no shell, no libc, non-root.
#
#   docker build -t usermock .
#   docker run --rm -p 8080:8080 usermock
#
# Builds on any architecture Docker's Rust Alpine image supports: Alpine's
# native target is musl, so the binary is static without cross-compiling.
# The base is pinned to one Rust release (the declared rust-version, so the
# image build also proves it) on one Alpine release.

FROM rust:1.89.0-alpine3.22 AS build
# musl-dev comes from the pinned Alpine release; its version follows it.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src

# Dependencies: downloaded in their own layer, which only a change of
# Cargo.toml or Cargo.lock rebuilds.
COPY Cargo.toml Cargo.lock ./
RUN cargo fetch --locked

# The sources, and everything include_str! embeds. Compiled crates stay in a
# BuildKit cache mount, so a source change recompiles usermock, not its
# ~100 dependencies.
COPY build.rs ./
COPY src ./src
COPY fixtures ./fixtures
COPY scenarios ./scenarios
COPY conformance ./conformance
# The commit, for `usermock --version` (the build context has no .git).
ARG USERMOCK_GIT_REV=unknown
ARG TARGETPLATFORM
RUN --mount=type=cache,id=usermock-target-${TARGETPLATFORM},target=/src/target,sharing=locked \
    USERMOCK_GIT_REV="${USERMOCK_GIT_REV}" cargo build --release --locked --offline --bin usermock \
 && cp target/release/usermock /usermock \
 && /usermock --version
# scratch has no /tmp; the state file that `usermock healthcheck` reads lives
# there, so the image brings one, writable by any user (sticky, like /tmp).
RUN mkdir -p /rootfs/tmp && chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build /usermock /usermock
# Mount points for your own files (set USERMOCK_FIXTURES / USERMOCK_SCENARIOS
# to use them); the image itself serves the embedded fixtures and scenarios.
# Mounted files must be readable by user 65534.
ENV USERMOCK_LISTEN=0.0.0.0:8080
# A CI service or compose service is usually reached as `usermock:8080`:
# the admin API answers that Host too (loopback and the vendors' hosts
# always). Set USERMOCK_ADMIN_HOST to your own service name otherwise.
ENV USERMOCK_ADMIN_HOST=usermock
# The server records the address it bound here (e.g. after `--listen
# 0.0.0.0:9000` as an argument) and the HEALTHCHECK reads it.
ENV USERMOCK_STATE_FILE=/tmp/usermock.state
USER 65534:65534
WORKDIR /tmp
EXPOSE 8080
# The binary probes its own /__admin/health: no curl or shell needed. Probed
# every second while starting (Docker 25+), so a CI job waiting on
# "healthy" waits about a second.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --start-interval=1s --retries=3 CMD ["/usermock", "healthcheck"]
# SIGTERM (docker stop) drains in-flight requests and exits 0.
STOPSIGNAL SIGTERM
ARG USERMOCK_GIT_REV=unknown
ARG USERMOCK_VERSION=dev
LABEL org.opencontainers.image.title="usermock" \
      org.opencontainers.image.description="A small, fast, faithful mock server for vendors' user APIs" \
      org.opencontainers.image.source="https://github.com/usermock/usermock" \
      org.opencontainers.image.url="https://github.com/usermock/usermock" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${USERMOCK_VERSION}" \
      org.opencontainers.image.revision="${USERMOCK_GIT_REV}"
ENTRYPOINT ["/usermock"]
