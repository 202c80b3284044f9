# What the shell benchmarks share: sourced by bench/wrk and bench/profile.
# Sets `work` (a temporary folder, removed on exit), `db`, and after
# setup_database `org`, `key` (a test API key) and `proofme`; after
# start_server `base` and `server`.

need() {
  command -v "$1" >/dev/null && return
  echo "== installing $2 (apt)" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}

work=$(mktemp -d)
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [ -n "${KEEP_PROFILE:-}" ]; then cp "$work"/*.txt "$work"/callgrind.out* "$KEEP_PROFILE"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

db="sqlite://$work/bench.db"
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# A fresh database with one organisation, a test key and an age-check proofme.
setup_database() {
  org=$(admin create-organisation --name "Bench Shop" | json_field id)
  key=$(admin create-api-key --organisation "$org" --mode test | json_field key)
  proofme=$(admin create-proofme --organisation "$org" --name "Age check" \
    --purpose AGE_VERIFICATION --credential EPASS:OLDER_THAN_18 | json_field id)
  body=$(printf '{"proofmeId":"%s","organisationId":"%s","description":"Order #12345","redirectUrl":"https://shop.example.com/return/12345","metadata":{"order":12345}}' "$proofme" "$org")
}
admin() { DATABASE_URL=$db RUST_LOG=warn "$bin" admin "$@"; }

# Starts the server on a free loopback port (rate limiting off); any words
# given go before the binary, e.g. a profiler and its options.
start_server() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  base="http://127.0.0.1:$port"
  DATABASE_URL=$db PROOFME_ADDR=127.0.0.1:$port PROOFME_PUBLIC_URL=$base \
    PROOFME_RATE_LIMIT=0 RUST_LOG=warn "$@" "$bin" serve --no-demo >/dev/null &
  server=$!
  for _ in $(seq 600); do
    curl -fs "$base/healthz" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "the server did not start" >&2
  exit 1
}

# Sends `n` creates, `parallel` at a time; prints the ids, one a line.
create_many() {
  local n=$1 parallel=$2
  for _ in $(seq "$n"); do printf '%s\n' "$body"; done |
    xargs -d '\n' -P "$parallel" -I{} curl -fs -X POST "$base/v1/identification" \
      -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{}' |
    python3 -c '
import json, sys
# Parallel answers arrive back to back; read them as a stream of JSON values.
text, decoder, at = sys.stdin.read(), json.JSONDecoder(), 0
while True:
    while at < len(text) and text[at].isspace():
        at += 1
    if at == len(text):
        break
    value, at = decoder.raw_decode(text, at)
    print(value["id"])
'
}

# A wrk script that posts the create body with the key; prints its path.
create_script() {
  cat > "$work/create.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
LUA
  echo "$work/create.lua"
}

# A wrk script that cycles through the paths in a file, with the key as a
# bearer token when one is given; prints its path.
paths_script() {
  local paths=$1 key=$2 script=$work/paths-$RANDOM.lua
  cat > "$script" <<LUA
local paths, i = {}, 0
for line in io.lines("$paths") do paths[#paths + 1] = line end
if "$key" ~= "" then wrk.headers["Authorization"] = "Bearer $key" end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
LUA
  echo "$script"
}

# One wrk run with `connections` connections for `seconds` seconds; prints "rps p50_ms p99_ms errors".
# Each scenario first runs for a second unmeasured, so that the figures are
# the steady state (pages rendered and cached, the allocator warm), as in
# bench/load.rs.
wrk_run() {
  local out
  wrk -t1 -c"$connections" -d1s "$@" >/dev/null
  out=$(wrk -t1 -c"$connections" -d"${seconds}s" --latency "$@")
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def ms(v):
    n, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}[unit]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"50%\s+(\S+)", out).group(1))
p99 = ms(re.search(r"99%\s+(\S+)", out).group(1))
errors = 0
m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
if m: errors += int(m.group(1))
m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
if m: errors += sum(int(x) for x in m.groups())
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {errors}")
PY
}
