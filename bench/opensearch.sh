#!/usr/bin/env bash
# OpenSearch export benchmarks: whole-process `saml2sts search --all`
# against the in-process emulator (10k, 100k, 1M synthetic documents, 1 and
# 4 slices: docs/s, client CPU per doc, the client's peak RSS), then signed
# vs unsigned exports of 100k documents, paired. Figures go into the
# "OpenSearch export" section of docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export CGO_ENABLED=${CGO_ENABLED:-0}
go test -run '^$' -bench 'BenchmarkExport$' -benchtime "${EXPORTS:-3}x" -count 1 ./bench/
go test -run '^$' -bench 'BenchmarkExportSigned$' -benchtime "${PAIRS:-10}x" -count "${COUNT:-3}" ./bench/
