#!/usr/bin/env bash
# Probes one lab endpoint with m365mon, curl -w and Prometheus' blackbox_exporter side by
# side, healthy and under each fault, and prints a Markdown table: what each tool names
# the fault, and the phase timings (connect, TLS, processing) in milliseconds.
#
# Everything runs in a network namespace of its own (root needed): the lab, the three
# probers, and the nftables rules for the faults the lab cannot make (ICMP rejects). No
# packet leaves the namespace. Needs ip, nft, curl, python3 and Debian's
# prometheus-blackbox-exporter.
#
#   scripts/compare-probes.sh [path/to/m365mon]      (default target/debug/m365mon)
#
# The latest table is in BENCHMARKS.md ("m365mon, curl and blackbox_exporter side by side").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BIN=$(realpath "${1:-target/debug/m365mon}")
BLACKBOX=${BLACKBOX:-prometheus-blackbox-exporter}
HOST=activation.sls.microsoft.com
TIMEOUT=2
for tool in ip nft curl python3 "$BLACKBOX"; do
  command -v "$tool" >/dev/null || { echo "compare-probes: $tool is missing" >&2; exit 3; }
done
[[ $(id -u) == 0 ]] || { echo "compare-probes: needs root (network namespace, nftables)" >&2; exit 3; }

NS=m365mon-cmp-$$
WORK=$(mktemp -d)
LAB_PID= BB_PID=
cleanup() {
  [[ -n $LAB_PID ]] && kill "$LAB_PID" 2>/dev/null && wait "$LAB_PID" 2>/dev/null
  [[ -n $BB_PID ]] && kill "$BB_PID" 2>/dev/null && wait "$BB_PID" 2>/dev/null
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }

# blackbox_exporter: one HTTP module; the lab's CA is always at the same path (--dir).
mkdir -p "$WORK/lab"
cat >"$WORK/blackbox.yml" <<EOF
modules:
  lab:
    prober: http
    timeout: ${TIMEOUT}s
    http:
      valid_status_codes: [200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405]
      preferred_ip_protocol: ip4
      headers:
        Host: $HOST
      tls_config:
        ca_file: $WORK/lab/lab-root-ca.pem
        server_name: $HOST
EOF
in_ns "$BLACKBOX" --config.file="$WORK/blackbox.yml" --web.listen-address=127.0.0.1:9115 \
  >"$WORK/blackbox.log" 2>&1 &
BB_PID=$!

# (name | scenario fault lines, empty for none | nftables rule on the endpoint, empty for none)
CASES=(
  "healthy||"
  "slow origin (+300 ms)|mode = \"slow\"\ndelay_ms = 300|"
  "refused (nothing listens)|mode = \"refuse\"|"
  "reset after accept|mode = \"reset\"|"
  "HTTP 503 from origin|mode = \"http-status\"\nstatus = 503|"
  "HTTP 502 from a gateway|mode = \"http-status\"\nstatus = 502|"
  "nft reject: admin-prohibited||reject with icmp type admin-prohibited"
  "nft reject: host-unreachable||reject with icmp type host-unreachable"
  "nft reject: net-unreachable||reject with icmp type net-unreachable"
  "nft reject: tcp reset||reject with tcp reset"
  "nft drop||drop"
)

start_lab() {
  local fault=$1
  {
    echo 'name = "compare"'
    echo 'description = "compare-probes.sh"'
    if [[ -n $fault ]]; then
      printf '\n[[fault]]\nhost = "%s"\n%b\n' "$HOST" "$fault"
    fi
  } >"$WORK/scenario.toml"
  rm -f "$WORK/state.json"
  in_ns "$BIN" lab serve --scenario "$WORK/scenario.toml" --dir "$WORK/lab" \
    --state-file "$WORK/state.json" >/dev/null 2>&1 &
  LAB_PID=$!
  for _ in $(seq 100); do [[ -s $WORK/state.json ]] && return 0; sleep 0.1; done
  echo "compare-probes: the lab did not start" >&2
  exit 3
}

stop_lab() {
  kill "$LAB_PID" 2>/dev/null || true
  wait "$LAB_PID" 2>/dev/null || true
  LAB_PID=
}

echo "| case | m365mon (stage: cause) | curl | blackbox_exporter | connect ms m365mon / curl / bb | TLS ms | processing ms |"
echo "|---|---|---|---|---|---|---|"
for case in "${CASES[@]}"; do
  IFS='|' read -r name fault rule <<<"$case"
  start_lab "$fault"
  read -r addr port < <(python3 -c "
import json, sys
s = json.load(open('$WORK/state.json'))
e = next(e for e in s['endpoints'] if e['host'] == '$HOST' and e['scheme'] == 'https')
print(e['addr'], e['port'])")
  in_ns nft delete table inet m365mon_cmp 2>/dev/null || true
  if [[ -n $rule ]]; then
    in_ns nft add table inet m365mon_cmp
    in_ns nft 'add chain inet m365mon_cmp out { type filter hook output priority 0 ; policy accept ; }'
    in_ns nft add rule inet m365mon_cmp out ip daddr "$addr" tcp dport "$port" "$rule"
  fi

  # The one endpoint alone, as curl and blackbox_exporter probe it.
  printf 'merge = "replace"\n\n[[endpoint]]\nhost = "%s"\n' "$HOST" >"$WORK/endpoints.toml"
  in_ns "$BIN" check --lab-connect "$WORK/state.json" --endpoints "$WORK/endpoints.toml" \
    --format json --timeout "$TIMEOUT" >"$WORK/m365mon.json" 2>/dev/null || true
  curl_out=$(in_ns curl -sSv -o /dev/null --max-time "$TIMEOUT" --cacert "$WORK/lab/lab-root-ca.pem" \
    --resolve "$HOST:$port:$addr" \
    -w '%{time_namelookup} %{time_connect} %{time_appconnect} %{time_starttransfer} %{http_code}' \
    "https://$HOST:$port/" 2>"$WORK/curl.err") && curl_rc=0 || curl_rc=$?
  curl -s "http://127.0.0.1:9115/probe?module=lab&debug=true&target=https://$addr:$port/" \
    --noproxy '*' >"$WORK/bb.txt" 2>/dev/null || in_ns curl -s \
    "http://127.0.0.1:9115/probe?module=lab&debug=true&target=https://$addr:$port/" >"$WORK/bb.txt"

  python3 - "$name" "$HOST" "$curl_rc" "$curl_out" "$WORK" <<'EOF'
import json, re, sys
name, host, curl_rc, curl_out, work = sys.argv[1:6]
r = json.load(open(f"{work}/m365mon.json"))
c = next(c for c in r["checks"] if c["id"] == f"endpoint:{host}")
stages = {s["name"]: s for s in c["stages"]}
last = c["stages"][-1]
if c["status"] == "pass":
    m = f"pass ({c['http']['status']})"
else:
    m = f"{last['name']}: {c.get('cause') or last.get('cause')} ({c['status']})"
def ms(s):
    return f"{stages[s]['ms']:.1f}" if s in stages and stages[s]["status"] != "skip" else "–"

verbose = open(f"{work}/curl.err").read().replace("|", "/")
# The errno is in -v's lines ("* connect to 10.0.0.1 port 443 failed: Connection
# refused", "* Recv failure: Connection reset by peer"); the last line is curl's summary.
lines = [l.strip() for l in verbose.splitlines()]
detail = [re.sub(r"^\* ", "", l) for l in lines
          if re.match(r"\* (connect to .* failed|Recv failure|OpenSSL|TLS connect error|Send failure)", l)]
summary = re.sub(r"^curl: \(\d+\) ", "", next((l for l in reversed(lines) if l.startswith("curl: (")), ""))
err = re.sub(r"^connect to \S+ port \d+ failed: ", "connect: ", detail[0]) if detail else summary
parts = curl_out.split()
if curl_rc == "0":
    cu = f"ok ({parts[4]})"
else:
    cu = f"exit {curl_rc}: {err[:80]}"
cms = {}
if len(parts) == 5:
    n, co, ap, st = (float(x) * 1000 for x in parts[:4])
    cms = {"tcp": co - n if co else None, "tls": ap - co if ap else None, "http": st - ap if st and ap else None}
def cf(k):
    v = cms.get(k)
    return f"{v:.1f}" if v else "–"

bb = open(f"{work}/bb.txt").read()
phases = {m.group(1): float(m.group(2)) * 1000
          for m in re.finditer(r'probe_http_duration_seconds\{phase="(\w+)"\} ([0-9.e+-]+)', bb)}
ok = re.search(r"^probe_success (\d)", bb, re.M)
code = re.search(r"^probe_http_status_code (\d+)", bb, re.M)
errs = re.findall(r'msg="(?:Error for HTTP request|Invalid HTTP response status code[^"]*)"[^\n]*?(?:err="([^"]*)")?', bb)
bberr = re.search(r'err="((?:[^"\\]|\\.)*)"', bb)
if ok and ok.group(1) == "1":
    b = f"ok ({code.group(1) if code else '?'})"
elif bberr:
    text = bberr.group(1).replace('\\"', '"')
    b = "fail: " + re.sub(r'^Get "[^"]*": ', "", text)[:80]
else:
    b = f"fail: HTTP {code.group(1) if code else '?'} not valid"
def bf(k):
    v = phases.get(k)
    return f"{v:.1f}" if v else "–"
print(f"| {name} | {m} | {cu} | {b} | {ms('tcp')} / {cf('tcp')} / {bf('connect')} "
      f"| {ms('tls')} / {cf('tls')} / {bf('tls')} | {ms('http')} / {cf('http')} / {bf('processing')} |")
EOF
  stop_lab
done
