#!/usr/bin/env python3
"""Python oracle for the differential tests.

Reads one JSON job per line on stdin, writes one JSON answer per line on stdout
(same order, same "id"). Never touches the network: the Hyperliquid part calls
only functions of hyperliquid.utils.signing (the official SDK's signing module,
which the SDK's Exchange class uses) with an eth_account wallet; the generic
EIP-712 / EIP-191 part is a second opinion from eth_account next to ethers.

Jobs:
  {"id", "kind": "l1", "key", "action", "vault", "nonce", "expires", "mainnet"}
  {"id", "kind": "user", "key", "action", "primaryType", "types", "mainnet", "emptyAgentName"}
  {"id", "kind": "eip712", "key", "typedData"}
  {"id", "kind": "eip191", "key", "message" | "message_hex"}
Answers: {"id", "r", "s", "v"} (r/s exactly as the SDK prints them),
         {"id", "digest", "signature"} / {"id", "signature"}, or {"id", "error"}.
"""
import json
import sys

from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_utils import keccak

from hyperliquid.utils import signing as S

# primaryType -> (SDK helper that signs with signatureChainId 0x66eee, SDK types or None)
HELPERS = {
    "HyperliquidTransaction:UsdSend": (S.sign_usd_transfer_action, S.USD_SEND_SIGN_TYPES),
    "HyperliquidTransaction:SpotSend": (S.sign_spot_transfer_action, S.SPOT_TRANSFER_SIGN_TYPES),
    "HyperliquidTransaction:Withdraw": (S.sign_withdraw_from_bridge_action, S.WITHDRAW_SIGN_TYPES),
    "HyperliquidTransaction:UsdClassTransfer": (S.sign_usd_class_transfer_action, S.USD_CLASS_TRANSFER_SIGN_TYPES),
    "HyperliquidTransaction:SendAsset": (S.sign_send_asset_action, S.SEND_ASSET_SIGN_TYPES),
    "HyperliquidTransaction:TokenDelegate": (S.sign_token_delegate_action, S.TOKEN_DELEGATE_TYPES),
    "HyperliquidTransaction:ApproveAgent": (S.sign_agent, None),
    "HyperliquidTransaction:ApproveBuilderFee": (S.sign_approve_builder_fee, None),
    "HyperliquidTransaction:ConvertToMultiSigUser": (
        S.sign_convert_to_multi_sig_user_action,
        S.CONVERT_TO_MULTI_SIG_USER_SIGN_TYPES,
    ),
    "HyperliquidTransaction:UserDexAbstraction": (S.sign_user_dex_abstraction_action, S.USER_DEX_ABSTRACTION_SIGN_TYPES),
    "HyperliquidTransaction:UserSetAbstraction": (S.sign_user_set_abstraction_action, S.USER_SET_ABSTRACTION_SIGN_TYPES),
    # no SDK helper: the SDK's payload builder and signer with the @nktkas types
    "HyperliquidTransaction:CDeposit": (None, None),
    "HyperliquidTransaction:CWithdraw": (None, None),
    "HyperliquidTransaction:LinkStakingUser": (None, None),
    "HyperliquidTransaction:UserPortfolioMargin": (None, None),
}

_wallets = {}


def wallet(key):
    if key not in _wallets:
        _wallets[key] = Account.from_key(key)
    return _wallets[key]


def l1(job):
    return S.sign_l1_action(
        wallet(job["key"]), job["action"], job.get("vault"), job["nonce"], job.get("expires"), job["mainnet"]
    )


def user(job):
    action = dict(job["action"])
    if job.get("emptyAgentName"):
        # Exchange.approve_agent(name=None): signs agentName "" and deletes it before posting
        action["agentName"] = ""
    helper, sdk_types = HELPERS[job["primaryType"]]
    chain = "Mainnet" if job["mainnet"] else "Testnet"
    if action.get("hyperliquidChain") != chain:
        raise ValueError("hyperliquidChain does not match the network")
    if action["signatureChainId"] == "0x66eee" and helper is not None:
        before = dict(action)
        sig = helper(wallet(job["key"]), action, job["mainnet"])
        if action != before:  # the helper sets signatureChainId/hyperliquidChain
            raise ValueError("SDK helper changed the action: %r -> %r" % (before, action))
        return sig
    # Any other wallet chain: the helpers hard-code 0x66eee, so use the SDK's
    # payload builder and signer directly (same functions the helpers call).
    types = sdk_types if sdk_types is not None else job["types"]
    if sdk_types is not None and sdk_types != job["types"]:
        raise ValueError("EIP-712 types differ from the SDK's: %r vs %r" % (job["types"], sdk_types))
    payload = S.user_signed_payload(job["primaryType"], types, action)
    return S.sign_inner(wallet(job["key"]), payload)


def hex0x(b):
    return "0x" + bytes(b).hex()


def eip712(job):
    td = job["typedData"]
    signable = encode_typed_data(full_message=td)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    signed = wallet(job["key"]).sign_message(signable)
    if bytes(signed.message_hash) != digest:
        raise ValueError("digest mismatch inside eth_account")
    return {"digest": hex0x(digest), "signature": hex0x(signed.signature)}


def eip191(job):
    if "message_hex" in job:
        msg = encode_defunct(hexstr=job["message_hex"])
    else:
        msg = encode_defunct(text=job["message"])
    signed = wallet(job["key"]).sign_message(msg)
    return {"signature": hex0x(signed.signature)}


KINDS = {"l1": l1, "user": user, "eip712": eip712, "eip191": eip191}


def main():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        job = json.loads(line)
        try:
            res = dict(KINDS[job["kind"]](job))
        except Exception as e:  # reported per job; the harness treats it as an oracle failure
            res = {"error": "%s: %s" % (type(e).__name__, e)}
        res["id"] = job["id"]
        out.write(json.dumps(res, ensure_ascii=True) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
