#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""The version 2 values of crate/tests/vectors/push_protocol.json, computed from
docs/protocol.md alone with Python's hmac and hashlib (not from the core):

- `v` = 2 in every message and the link;
- the enrollment answer's `otp` = {algorithm, digits} and its tag (§3);
- each approval's passcode, the OCRA response (RFC 6287 §5.1, suite
  OCRA-1:HOTP-<hash>-<digits>:QH32) under K_otp to the request id, and its tags (§5);
- `approvals`: for SHA1/6, SHA256/8 and SHA512/10 tokens, the enrollment tag, the passcode of
  request 0 and the approval's tags;
- `login_code`: the sign-in code "493027" in the reply to the approval of request 0, and its
  `loginCodeTag` under K_req (§5);
- `page_binding`: the binding f0f1…ff of the login page request 0 was started from, the
  request's `bindingHash`, the request with it and its tag, and the bound approval of it (no
  number, the binding under both tags) (§5, "Same-browser approvals").

Every other value (keys, requests, notices, channel, PIN, restore) is checked against the file
as it stands and kept. Run from the repository root:

    python3 scripts/push-vectors.py            rewrites the file
    python3 scripts/push-vectors.py --check    fails if the file differs
"""
import base64
import hashlib
import hmac
import json
import struct
import sys

PATH = "crate/tests/vectors/push_protocol.json"
HASHES = {"SHA1": hashlib.sha1, "SHA256": hashlib.sha256, "SHA512": hashlib.sha512}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def frame(data):
    return struct.pack(">I", len(data)) + data


def s(text):
    return frame(text.encode())


def u64(n):
    return frame(struct.pack(">Q", n))


def opt(parts):
    return frame(b"\x00") if parts is None else frame(b"\x01" + parts)


def canonical(purpose, *fields):
    return frame(b"pushotp/1") + s(purpose) + b"".join(fields)


def mac(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = mac(prk, block + info + bytes([i]))
        out += block
        i += 1
    return out[:length]


def ocra(suite, key, question_hex, algorithm, digits):
    """RFC 6287 §5.1 for a one-way suite with only Q (QHxx): OCRASuite || 00 || Q, where Q is
    the hex question padded with zeros to 128 bytes (Appendix A), then HOTP truncation."""
    q = bytes.fromhex(question_hex).ljust(128, b"\x00")
    digest = hmac.new(key, suite.encode() + b"\x00" + q, HASHES[algorithm]).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def enrolled_input(e, device_nonce):
    data = canonical(
        "enrolled", s(e["tokenId"]), s(e["tokenName"]), s(e["user"]), s(e["issuer"]),
        frame(device_nonce), frame(unb64(e["serverNonce"])),
        s(e["otp"]["algorithm"]), u64(e["otp"]["digits"]),
        u64(1 if e["pin"]["required"] else 0), u64(e["pin"]["maxTries"]))
    if "loginOrigins" in e:
        data += u64(len(e["loginOrigins"])) + b"".join(s(o) for o in e["loginOrigins"])
    return data


def answer_input(purpose, a):
    number = None if a["number"] is None else u64(a["number"])
    passcode = None if a["passcode"] is None else s(a["passcode"])
    data = canonical(purpose, frame(unb64(a["requestId"])), s(a["tokenId"]), s(a["decision"]),
                     opt(number), opt(passcode), u64(a["answeredAt"]))
    if a.get("binding") is not None:
        data += s("binding") + frame(unb64(a["binding"]))
    return data


def sign_enrolled(vector, k_act, device_nonce):
    data = enrolled_input(vector["json"], device_nonce)
    tag = mac(k_act, data)
    vector["json"]["tag"] = b64(tag)
    vector["canonical_hex"] = data.hex()
    vector["tag_hex"] = tag.hex()


def sign_answer(vector, k_chan, k_ans):
    a = vector["json"]
    device = answer_input("answer-device", a)
    vector["device_canonical_hex"] = device.hex()
    vector["device_tag_hex"] = mac(k_chan, device).hex()
    a["deviceTag"] = b64(mac(k_chan, device))
    answer = answer_input("answer", a)
    vector["answer_canonical_hex"] = answer.hex()
    if a["decision"] == "approve":
        vector["answer_tag_hex"] = mac(k_ans, answer).hex()
        a["answerTag"] = b64(mac(k_ans, answer))


def main():
    with open(PATH) as f:
        before = f.read()
    file = json.loads(before)
    inputs, keys = file["inputs"], file["keys"]
    a = bytes.fromhex(inputs["activation_secret_hex"])
    device_nonce = bytes.fromhex(inputs["device_nonce_hex"])
    server_nonce = bytes.fromhex(inputs["server_nonce_hex"])

    # §1, as a check of the keys already in the file.
    k_act = hkdf_expand(mac(b"\x00" * 32, a), b"pushotp/1 activation", 32)
    prk = mac(device_nonce + server_nonce, a)
    assert k_act.hex() == keys["activation_hex"] and prk.hex() == keys["prk_hex"]
    k_otp = {alg: hkdf_expand(prk, b"pushotp/1 passcode", HASHES[alg]().digest_size)
             for alg in HASHES}
    for alg, key in k_otp.items():
        assert key.hex() == keys["otp_hex"][alg], alg
    k_ans = hkdf_expand(prk, b"pushotp/1 answer-mac", 32)
    k_chan = hkdf_expand(prk, b"pushotp/1 channel", 32)
    assert k_ans.hex() == keys["answer_hex"] and k_chan.hex() == keys["channel_hex"]

    file["source"] = "docs/protocol.md, PushOTP protocol version 2"
    file["link"] = file["link"].replace("?v=1&", "?v=2&")
    # Approval passcodes are bound to the request: no HOTP counter any more.
    file.pop("passcodes", None)

    def each_message(value):
        if isinstance(value, dict):
            if value.get("v") == 1:
                value["v"] = 2
            for child in value.values():
                each_message(child)
        elif isinstance(value, list):
            for child in value:
                each_message(child)
    each_message(file)

    for name in ("enrolled", "enrolled_login_origins"):
        file[name]["json"]["otp"] = {"algorithm": "SHA1", "digits": 6}
        sign_enrolled(file[name], k_act, device_nonce)

    def passcode(request_index, algorithm, digits):
        request_id = unb64(file["requests"][request_index]["json"]["id"])
        suite = f"OCRA-1:HOTP-{algorithm}-{digits}:QH32"
        return suite, ocra(suite, k_otp[algorithm], request_id.hex(), algorithm, digits)

    for vector in file["answers"]:
        if vector["json"]["decision"] == "approve":
            vector["json"]["passcode"] = passcode(vector["request"], "SHA1", 6)[1]
        sign_answer(vector, k_chan, k_ans)

    approvals = []
    for algorithm, digits in (("SHA1", 6), ("SHA256", 8), ("SHA512", 10)):
        enrolled = json.loads(json.dumps(file["enrolled"]))
        enrolled["json"]["otp"] = {"algorithm": algorithm, "digits": digits}
        sign_enrolled(enrolled, k_act, device_nonce)
        suite, code = passcode(0, algorithm, digits)
        answer = json.loads(json.dumps(file["answers"][0]))
        answer["name"] = f"approve, {algorithm} {digits} digits"
        answer["json"]["passcode"] = code
        sign_answer(answer, k_chan, k_ans)
        approvals.append({"algorithm": algorithm, "digits": digits, "suite": suite,
                          "passcode": code, "enrolled": enrolled, "answer": answer})
    file["approvals"] = approvals

    # §5, "What the login page gets": the sign-in code in the reply to the approval of request
    # 0, tagged under K_req.
    k_req = hkdf_expand(prk, b"pushotp/1 request-mac", 32)
    assert k_req.hex() == keys["request_hex"]
    request = file["requests"][0]["json"]
    login_code = "493027"
    data = canonical("login-code", frame(unb64(request["id"])), s(request["tokenId"]), s(login_code))
    file["login_code"] = {"request": 0, "login_code": login_code, "canonical_hex": data.hex(),
                          "tag_hex": mac(k_req, data).hex()}

    # §5, "Same-browser approvals": request 0 started from a login page whose binding is
    # f0f1…ff, and its bound approval, which leaves the number out.
    binding = bytes(range(0xF0, 0x100))
    request_bytes = bytes.fromhex(file["requests"][0]["canonical_hex"])
    assert mac(k_req, request_bytes).hex() == file["requests"][0]["tag_hex"]
    hash_input = canonical("page-binding", frame(unb64(request["id"])), s(request["tokenId"]))
    binding_hash = mac(binding, hash_input)
    bound_bytes = request_bytes + s("bindingHash") + frame(binding_hash)
    bound_request = dict(request, bindingHash=b64(binding_hash))
    bound_request["tag"] = b64(mac(k_req, bound_bytes))
    bound_answer = {"name": "bound approval, no number", "request": 0,
                    "json": dict(file["answers"][0]["json"], number=None,
                                 binding=b64(binding))}
    sign_answer(bound_answer, k_chan, k_ans)
    file["page_binding"] = {
        "binding_hex": binding.hex(), "binding": b64(binding),
        "hash_canonical_hex": hash_input.hex(), "hash_hex": binding_hash.hex(),
        "request": {"json": bound_request, "canonical_hex": bound_bytes.hex(),
                    "tag_hex": mac(k_req, bound_bytes).hex()},
        "answer": bound_answer,
    }

    after = json.dumps(file, indent=2, ensure_ascii=False) + "\n"
    if "--check" in sys.argv[1:]:
        if after != before:
            sys.exit(f"{PATH} differs from what docs/protocol.md gives")
        return
    with open(PATH, "w") as f:
        f.write(after)
    for v in approvals:
        print(v["algorithm"], v["digits"], v["suite"], v["passcode"],
              "enrolled", v["enrolled"]["tag_hex"], "deviceTag", v["answer"]["device_tag_hex"],
              "answerTag", v["answer"]["answer_tag_hex"])
    for name in ("enrolled", "enrolled_login_origins"):
        print(name, file[name]["tag_hex"])
    print("loginCodeTag", file["login_code"]["tag_hex"])
    pb = file["page_binding"]
    print("bindingHash", pb["hash_hex"], "bound request tag", pb["request"]["tag_hex"],
          "bound deviceTag", pb["answer"]["device_tag_hex"],
          "bound answerTag", pb["answer"]["answer_tag_hex"])
    for v in file["answers"]:
        print(v["name"], v["json"]["passcode"], v["device_tag_hex"], v.get("answer_tag_hex"))


if __name__ == "__main__":
    main()
