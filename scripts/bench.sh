#!/usr/bin/env bash
# bench.sh: re-runs every benchmark of pkikit's hot sign/verify paths beside the peer it must beat, prints
# benchstat's summary and a table of ratios (median ours / median peer) against the goals the issues set.
#   scripts/bench.sh                 # 6 runs of each, -cpu 1 (one core: steadier on a shared machine)
#   COUNT=10 BENCHTIME=500x scripts/bench.sh
# Output: bench/latest.txt (raw go test output), then benchstat and the ratio table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
BENCHTIME=${BENCHTIME:-300x}
mkdir -p bench
out=bench/latest.txt
: > "$out"
run() { # package, regexp
  go test -run '^$' -bench "$2" -benchtime "$BENCHTIME" -count "$COUNT" -cpu 1 "$1" | tee -a "$out" | grep -E '^(Benchmark|ok|FAIL)' >&2
}
run ./internal/alg      'SignMLDSA65|VerifyMLDSA65'
run ./x509ext           'Issue|CheckSignature'
run ./csr               'Create'
run ./kmssigner         'SignECDSAP256_(BareKey|LocalKMS$)|SignMLDSA65_(BareKey|LocalKMS$)'
run ./kmssigner/awskms  'SignECDSAP256ThroughSDK$'
run ./truststore        'Verify'
run ./cms               '1KiB'
run ./mdl               'MDL20ES256|DeviceResponse20ES256'

echo
echo "== benchstat"
go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da "$out" || echo "(benchstat unavailable)"

echo
echo "== ratios (median ns/op, ours / peer)"
# pair: ours peer goal
pairs='
x509ext:IssueECDSAP256 IssueECDSAP256_StdlibPeer 1.1
x509ext:IssueMLDSA65 IssueMLDSA65_CirclSignPeer 1.1
x509ext:CheckSignatureMLDSA65 CheckSignatureMLDSA65_RawVerifyPeer 1.1
x509ext:CheckSignatureECDSAP256 CheckSignatureECDSAP256_RawVerifyPeer 1.1
csr:CreateECDSAP256 CreateECDSAP256_StdlibPeer 1.1
csr:CreateMLDSA65 CreateMLDSA65_RawCirclSign 1.1
kmssigner:SignECDSAP256_LocalKMS SignECDSAP256_BareKey 1.1
kmssigner:SignMLDSA65_LocalKMS SignMLDSA65_BareKey 1.1
truststore:VerifyECDSAP256Cold VerifyECDSAP256_StdlibPeer 1.0
truststore:VerifyMLDSA65Cold VerifyMLDSA65Cold_RawWork 1.1
truststore:VerifyMLDSA65Warm VerifyMLDSA65Warm_TwoRawVerifies 1.1
cms:SignMLDSA65_1KiB SignMLDSA65_1KiB_RawCircl 1.05
cms:VerifyMLDSA65_1KiB_Cold VerifyMLDSA65_1KiB_RawParseVerify 1.1
cms:VerifyMLDSA65_1KiB_Warm VerifyMLDSA65_1KiB_RawVerify 1.1
cms:SignECDSAP256_1KiB SignECDSAP256_1KiB_Raw 1.1
cms:VerifyECDSAP256_1KiB_Warm VerifyECDSAP256_1KiB_Raw 1.1
cms:SignECDSAP256_1KiB SignECDSAP256_1KiB_Pkcs7 0.714
cms:VerifyECDSAP256_1KiB_Warm VerifyECDSAP256_1KiB_Pkcs7 0.8
mdl:IssueMDL20ES256 IssueMDL20ES256_RawPeer 1.5
mdl:VerifyDeviceResponse20ES256 VerifyDeviceResponse20ES256_RawPeer 1.5
'
awk -v pairs="$pairs" '
function median(name,   n, i, j, t, a) {
  n = cnt[name]; if (n == 0) return -1
  for (i = 1; i <= n; i++) a[i] = v[name, i]
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^pkg: / { pkg = $2; sub(/.*\//, "", pkg) }
/^Benchmark/ {
  name = $1; sub(/^Benchmark/, "", name); sub(/-[0-9]+$/, "", name)
  for (i = 3; i <= NF; i++) if ($(i) == "ns/op") { key = pkg ":" name; cnt[key]++; v[key, cnt[key]] = $(i - 1) }
}
END {
  printf "%-52s %-40s %8s %6s %s\n", "ours", "peer", "ratio", "goal", "met"
  np = split(pairs, lines, "\n")
  for (k = 1; k <= np; k++) {
    if (lines[k] == "") continue
    split(lines[k], f, " "); split(f[1], pk, ":")
    a = median(f[1]); b = median(pk[1] ":" f[2])
    if (a < 0 || b <= 0) { printf "%-52s %-40s %8s\n", f[1], f[2], "missing"; continue }
    r = a / b
    printf "%-52s %-40s %8.2f %6s %s\n", f[1], f[2], r, f[3], (r <= f[3] ? "yes" : "NO")
  }
}' "$out"
