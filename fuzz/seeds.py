#!/usr/bin/env python3
"""Writes the fuzz targets' seed inputs (fuzz/seeds/<target>/) from the test vectors of
crate/tests/vectors/, so that each target starts from real messages and links instead of
from nothing. Run it again when the vectors change; its output is committed.

    python3 fuzz/seeds.py
"""

import hashlib
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "crate" / "tests" / "vectors"
SEEDS = ROOT / "fuzz" / "seeds"

# The server_bodies target's first byte picks the route, in this order (fuzz_targets/server_bodies.rs).
ROUTES = ["enroll", "pending", "remove", "restore", "webpush", "answers"]


def load(name):
    return json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(hex_text):
    import base64

    return base64.urlsafe_b64encode(bytes.fromhex(hex_text)).rstrip(b"=").decode()


def main():
    push = load("push_protocol")
    otpauth = load("otpauth_uris")
    migration = load("migration")
    pi = load("privacyidea_push")
    qr = load("qr_codes")
    seeds = {name: [] for name in [
        "activation_link", "push_wire", "otpauth", "migration", "privacyidea_enroll",
        "privacyidea_challenge", "canonical_json", "stored_tokens", "server_bodies", "qr",
    ]}

    # Activation links: the vector, and each QR code's text that is one.
    seeds["activation_link"].append(push["link"].encode())
    for code in qr["codes"]:
        if code["text"].startswith("pushotp://"):
            seeds["activation_link"].append(code["text"].encode())

    # Every protocol message of the vectors, as it travels.
    def messages(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "json" and isinstance(value, dict):
                    yield value
                else:
                    yield from messages(value)
        elif isinstance(node, list):
            for value in node:
                yield from messages(value)

    wire = list(messages(push))
    token_id = push["inputs"]["token_id"]
    wire.append(push["webpush"]["subscription"])
    wire.append(push["pin"]["masked"])
    wire.append(push["pin"]["params"])
    seeds["push_wire"] += [compact(m) for m in wire]

    # The server's JSON bodies, route byte first.
    def body(route, value):
        return bytes([ROUTES.index(route)]) + compact(value)

    for message in wire:
        if set(message) == {"v", "tokenId", "deviceName", "deviceNonce", "proof"}:
            seeds["server_bodies"].append(body("enroll", message))
        elif "requestId" in message:
            seeds["server_bodies"].append(body("answers", message))
        elif set(message) == {"v", "tokenId", "nonce", "tag"}:
            seeds["server_bodies"].append(body("restore", message))
    signed = {"tokenId": token_id, "at": push["poll"]["at"], "tag": b64url(push["poll"]["tag_hex"])}
    seeds["server_bodies"].append(body("pending", {"tokens": [signed]}))
    removal = {"tokenId": token_id, "at": push["remove"]["at"], "tag": b64url(push["remove"]["tag_hex"])}
    seeds["server_bodies"].append(body("remove", removal))
    webpush = {
        "tokenId": token_id,
        "at": push["webpush"]["at"],
        "subscription": push["webpush"]["subscription"],
        "tag": b64url(push["webpush"]["tag_hex"]),
    }
    seeds["server_bodies"].append(body("webpush", webpush))

    # otpauth:// links, good and bad; migration links likewise.
    for case in otpauth["good"] + otpauth["bad"]:
        seeds["otpauth"].append(case["uri"].encode())
    for case in migration["good"] + migration["bad"]:
        seeds["migration"].append(case["link"].encode())

    # privacyIDEA: the enrollment link, the server key, signatures; challenges and capabilities.
    seeds["privacyidea_enroll"].append(pi["enroll_uri"].encode())
    seeds["privacyidea_enroll"].append(pi["server"]["public_key_detail"].encode())
    for vector in pi["vectors"]:
        seeds["privacyidea_enroll"].append(vector["signature_b32"].encode())
    for captured in pi["server_challenges"]:
        raw = captured["raw_challenge_from_poll"]
        seeds["privacyidea_challenge"].append(compact(raw))
        seeds["privacyidea_challenge"].append(raw["capabilities"].encode())
        seeds["canonical_json"].append(raw["capabilities"].encode())
        seeds["canonical_json"].append(captured["capabilities_signed_bytes"].encode())
    seeds["canonical_json"] += [json.dumps(m, indent=1).encode() for m in wire[:4]]

    # Tokens as the extension stores and exports them: everyday tokens from the good links,
    # and the enrolled push token of the protocol vectors.
    for case in otpauth["good"]:
        fields = ("type", "issuer", "account", "algorithm", "digits", "period", "counter")
        token = {k: case[k] for k in fields if k in case}
        token["secret"] = case["secret_base32"]
        seeds["stored_tokens"].append(compact(token))
    keys = push["keys"]
    seeds["stored_tokens"].append(compact({
        "tokenId": token_id,
        "server": push["inputs"]["server"],
        "keys": {name: b64url(keys[f"{name}_hex"]) for name in ("request", "channel", "answer")}
        | {"otp": b64url(keys["otp_hex"]["SHA1"])},
        "pin": {"required": False, "maxTries": 5},
    }))

    # QR codes: each vector's modules as a grey-scale image, width byte first, one pixel a
    # module with the quiet zone, where it fits the fuzzer's 4096-byte inputs (the core reads
    # small codes again at twice the size).
    for code in qr["codes"]:
        rows = code["modules"]
        side = len(rows) + 8
        if side * side + 1 > 4096:
            continue
        pixels = bytearray(b"\xff" * (side * side))
        for y, row in enumerate(rows):
            for x, module in enumerate(row):
                if module == "#":
                    pixels[(y + 4) * side + x + 4] = 0
        seeds["qr"].append(bytes([side]) + bytes(pixels))

    if SEEDS.exists():
        shutil.rmtree(SEEDS)
    for target, inputs in seeds.items():
        folder = SEEDS / target
        folder.mkdir(parents=True)
        for data in inputs:
            # Named by content, as libFuzzer names its corpus files.
            (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)
        print(f"{target}: {len(set(inputs))} seeds")


if __name__ == "__main__":
    main()
