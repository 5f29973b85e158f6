#!/usr/bin/env bash
# make run (until the service lands): an offline signing demo with the public
# test keys of the vectors. Nothing here is a real credential.
set -euo pipefail
SIGIL="${1:-build/bin/sigil}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cat >"$tmp/binance.json" <<'JSON'
{"api_key":"vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
 "secret":"NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"}
JSON
cat >"$tmp/wallet.json" <<'JSON'
{"private_key":"0x0123456789012345678901234567890123456789012345678901234567890123"}
JSON

echo "== Sigil offline signing demo (the dev service arrives with the service issue)"
echo
echo "-- binance: POST /api/v3/order (HMAC key, official docs example)"
req='{"method":"POST","path":"/api/v3/order","query":"","body":"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559","timestamp":1499827319559}'
echo "request:  $req"
echo -n "signed:   "
echo "$req" | "$SIGIL" sign --venue binance --credentials "$tmp/binance.json"

if "$SIGIL" help | grep -q hyperliquid; then
    echo
    echo "-- hyperliquid: L1 order on mainnet (well-known test key)"
    req='{"action":{"type":"order","orders":[{"a":0,"b":true,"p":"50000","s":"0.001","r":false,"t":{"limit":{"tif":"Gtc"}}}],"grouping":"na"},"nonce":1700000000000}'
    echo "request:  $req"
    echo -n "signed:   "
    echo "$req" | "$SIGIL" sign --venue hyperliquid --credentials "$tmp/wallet.json"
fi

echo
echo "-- a malformed request gets a typed error on stderr and exit 2:"
set +e
echo '{"method":"POST","path":"/api/v3/order","timestamp":1,"timestamp":2}' |
    "$SIGIL" sign --venue binance --credentials "$tmp/binance.json"
echo "exit code: $?"
