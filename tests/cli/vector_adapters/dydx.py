"""dYdX v4 vectors (@dydxprotocol/v4-client-js 3.6.0 LocalWallet.signTransaction ==
an independent protobuf encoder + @noble/curves secp256k1) through sigil.

Each vector's inputs (the client's camelCase composer arguments) become a
sigil request (docs/API.md, "dYdX"); sigil's TxRaw, txhash and signature must
equal the vector's byte for byte. The intermediate bytes (message, body,
AuthInfo, SignDoc) are checked in tests/unit/test_dydx.c.
"""
import base64

from vector_adapters.common import eq
from run_vectors import Case

SKIPPED = {}

NETWORKS = {"dydx-mainnet-1": "mainnet", "dydx-testnet-4": "testnet"}
MSGS = {"/dydxprotocol.clob.MsgPlaceOrder": "place_order",
        "/dydxprotocol.clob.MsgCancelOrder": "cancel_order"}
ID_FIELDS = [("owner", "owner"), ("subaccountNumber", "subaccount_number"),
             ("clientId", "client_id"), ("clobPairId", "clob_pair_id"),
             ("orderFlags", "order_flags")]
ORDER_FIELDS = [("side", "side"), ("quantums", "quantums"), ("subticks", "subticks"),
                ("timeInForce", "time_in_force"), ("reduceOnly", "reduce_only"),
                ("clientMetadata", "client_metadata")]


def request_of(inp):
    """The sigil request for a vector's inputs."""
    m = inp["msg"]
    kind = MSGS[inp["msg_type_url"]]
    msg = {ours: m[theirs] for theirs, ours in ID_FIELDS}
    if m["orderFlags"] == 0:
        msg["good_til_block"] = m["goodTilBlock"]
    else:
        msg["good_til_block_time"] = m["goodTilBlockTime"]
    if kind == "place_order":
        msg.update({ours: m[theirs] for theirs, ours in ORDER_FIELDS})
    fee = inp["fee"]
    req = {"chain_id": inp["chain_id"], "account_number": inp["account_number"],
           "sequence": inp["sequence"], kind: msg,
           "fee": {"amount": fee["amount"], "gas": int(fee["gas"])}}
    if inp["memo"]:
        req["memo"] = inp["memo"]
    if inp["selected_authenticators"]:
        req["authenticators"] = inp["selected_authenticators"]
    return req


def _check(exp):
    def check(out):
        eq(list(out), ["tx_bytes", "txhash", "signature"], "output members")
        eq(out["tx_bytes"], exp["tx_raw_base64"], "tx_bytes")
        eq(base64.b64decode(out["tx_bytes"]).hex(), exp["tx_raw_hex"], "tx_bytes (hex)")
        eq(out["txhash"], exp["txhash"], "txhash")
        eq(out["signature"], exp["signature_base64"], "signature")
    return check


def cases(doc, vectors_dir):
    for v in doc["vectors"]:
        inp = v["inputs"]
        yield Case(v["name"], "dydx", {"private_key": inp["signer_private_key"]},
                   request_of(inp), _check(v["expected"]), network=NETWORKS[inp["chain_id"]])
