#!/usr/bin/env bash
# HMAC secret search speed: guesses per second for HS256/384/512 on a fixed
# ~200-byte signing input (all cores), the time to exhaust a 1,000,000-entry
# list, and a plain crypto/hmac loop on one core for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run xxx -bench 'Crack|PlainHMAC' -benchtime "${1:-3s}" ./bench/ | grep -E '^Benchmark'
