# syntax=docker/dockerfile:1
#
# One image holds every process of deploy/manifest.yaml; docker-compose.yml runs
# each as a service whose command is the binary named after it.

FROM golang:1.26 AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# No separate `go mod download` layer: in a workspace it fetches the whole module
# graph (goose alone names dozens of database drivers), while `go build` fetches
# only what the binaries import. The cache mounts keep rebuilds fast instead.
COPY . .
# Every main package of the manifest; `go build -o dir/` names each binary after
# its folder, which is the process name (platform/manifest's compose test checks).
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p /out && \
    go build -trimpath -ldflags="-s -w" -o /out/ $(awk '$1 == "main:" {print $2}' deploy/manifest.yaml)

# Static binaries need no libc; distroless adds CA certificates and time zones.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ /usr/local/bin/
# The manifest (the supervisor reads it) and the authorization policies.
COPY deploy/ /etc/andes/
