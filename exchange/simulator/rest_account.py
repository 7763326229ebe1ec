"""Signed account and user endpoints: API key info, account info, wallet, fees, transaction log."""

from __future__ import annotations

from typing import Any

from exchange.simulator import bybit_json
from exchange.simulator.engine import Engine
from exchange.simulator.errors import PARAM_ERROR, BybitError, MarginModeError
from exchange.simulator.instruments import INSTRUMENTS, MAKER_FEE, TAKER_FEE
from exchange.simulator.pagination import page
from exchange.simulator.params import limit, text
from exchange.simulator.records import ApiKey
from exchange.simulator.rest_common import (
    Params,
    linear_only,
    symbol_param,
    time_window,
    uid_of,
)


def query_api(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    if key is None:
        raise RuntimeError("private handler without a key")
    wallet = ["AccountTransfer", "SubMemberTransfer"] + (["Withdraw"] if key.withdraw else [])
    created = iso_time(key.created_ms)
    return {
        "id": str(key.key_id),
        "note": key.note,
        "apiKey": key.api_key,
        "readOnly": 1 if key.read_only else 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": ["SpotTrade"],
            "Wallet": wallet,
            "Options": ["OptionsTrade"],
            "Derivatives": ["DerivativesTrade"],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": ["ExchangeHistory"],
            "NFT": [],
            "Affiliate": [],
            "Earn": [],
            "FiatP2P": [],
            "FiatConvertBroker": [],
            "FiatGlobalPay": [],
            "FiatBitPay": [],
            "BitCard": [],
            "ByXPost": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -2,
        "expiredAt": "1970-01-01T00:00:00Z",
        "createdAt": created,
        "unified": 0,
        "uta": 1,
        "userID": key.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
        "userIDInt64": str(key.uid),
        "inviterIDInt64": "0",
        "affiliateIDInt64": "0",
    }


def iso_time(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def account_info(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    account = eng.accounts[uid_of(key)]
    return {
        "marginMode": account.margin_mode,
        "updatedTime": str(account.created_ms),
        "unifiedMarginStatus": 6,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def wallet_item(eng: Engine, uid: int) -> dict[str, Any]:
    upl, pos_im, order_im, pos_mm = eng.margin(uid)
    return bybit_json.wallet_json(
        eng.accounts[uid], upl, pos_im, order_im, pos_mm, eng.cum_realised(uid)
    )


def wallet_balance(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    if text(p, "accountType") != "UNIFIED":
        raise BybitError(PARAM_ERROR, "accountType only support UNIFIED")
    item = wallet_item(eng, uid_of(key))
    coins = [c for c in text(p, "coin").split(",") if c]
    if coins:
        item["coin"] = [c for c in item["coin"] if c["coin"] in coins]
    return {"list": [item]}


def fee_rate(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    category = text(p, "category", "linear")
    if category != "linear":
        raise BybitError(PARAM_ERROR, "params error: category only support linear")
    symbol = symbol_param(p, required=False)
    base = text(p, "baseCoin")
    rows = [
        {"symbol": s, "takerFeeRate": str(TAKER_FEE), "makerFeeRate": str(MAKER_FEE)}
        for s, i in INSTRUMENTS.items()
        if (not symbol or s == symbol) and (not base or i.base_coin == base)
    ]
    return {"list": rows}


def transaction_log(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    account_type = text(p, "accountType", "UNIFIED")
    if account_type != "UNIFIED":
        raise BybitError(PARAM_ERROR, "accountType only support UNIFIED")
    linear_only(p, required=False)
    start, end = time_window(eng, p)
    kind = text(p, "type")
    currency = text(p, "currency")
    base = text(p, "baseCoin")
    rows = [
        t
        for t in reversed(eng.tx_log[uid_of(key)])
        if start <= t.trans_time <= end
        and (not kind or t.type == kind)
        and (not currency or currency == "USDT")
        and (not base or (t.symbol and INSTRUMENTS[t.symbol].base_coin == base))
        and (not text(p, "category") or t.symbol)
    ]
    chunk, cursor = page(rows, lambda t: t.record_id, limit(p, 20, 50), text(p, "cursor"))
    return {"nextPageCursor": cursor, "list": [bybit_json.transaction_json(t) for t in chunk]}


def set_margin_mode(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Account-level REGULAR_MARGIN (cross) or ISOLATED_MARGIN; portfolio margin is not served."""
    mode = text(p, "setMarginMode")
    if mode not in ("ISOLATED_MARGIN", "REGULAR_MARGIN", "PORTFOLIO_MARGIN"):
        raise BybitError(PARAM_ERROR, "params error: setMarginMode invalid")
    if mode == "PORTFOLIO_MARGIN":
        raise MarginModeError("3400000", "The simulator does not offer portfolio margin")
    eng.set_margin_mode(uid_of(key), mode)
    return {"reasons": []}


def quick_repayment(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """Nothing is ever borrowed here, so there is nothing to repay (Bybit answers an empty list;
    its 182120 answer is for manual borrows, which the simulator does not have)."""
    uid_of(key)
    return {"list": []}


def _coin(name: str, chain: str, chain_type: str, accuracy: str) -> dict[str, Any]:
    """One coin as /v5/asset/coin/query-info lists it. Deposits and withdrawals are control-API
    calls here, so every chain says deposit and withdrawal are off (``"0"``)."""
    return {
        "name": name,
        "coin": name,
        "remainAmount": "0",
        "chains": [
            {
                "chainType": chain_type,
                "confirmation": "0",
                "withdrawFee": "",
                "depositMin": "0",
                "withdrawMin": "0",
                "chain": chain,
                "chainDeposit": "0",
                "chainWithdraw": "0",
                "minAccuracy": accuracy,
                "withdrawPercentageFee": "0",
                "contractAddress": "",
                "safeConfirmNumber": "0",
            }
        ],
    }


COINS = {
    "USDT": _coin("USDT", "ETH", "Ethereum (ERC20)", "8"),
    "BTC": _coin("BTC", "BTC", "BTC", "8"),
    "ETH": _coin("ETH", "ETH", "Ethereum (ERC20)", "8"),
}


def coin_query_info(eng: Engine, p: Params, key: ApiKey | None) -> Any:
    """The coins the simulator knows (USDT, and the bases of its contracts), optionally one."""
    uid_of(key)
    coin = text(p, "coin")
    if coin and coin not in COINS:
        raise BybitError(PARAM_ERROR, "params error: coin invalid")
    return {"rows": [c for name, c in COINS.items() if not coin or name == coin]}
