# Independent generator of vault.json: Python `cryptography` (Argon2id, ChaCha20-Poly1305, HMAC)
# plus HChaCha20 written out here, so the vectors do not come from the Rust code they test.
# Run: python3 vault.py > vault.json
import json, struct, hmac, hashlib
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

def rotl(v, c): return ((v << c) & 0xffffffff) | (v >> (32 - c))
def qr(s, a, b, c, d):
    s[a]=(s[a]+s[b])&0xffffffff; s[d]^=s[a]; s[d]=rotl(s[d],16)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]^=s[c]; s[b]=rotl(s[b],12)
    s[a]=(s[a]+s[b])&0xffffffff; s[d]^=s[a]; s[d]=rotl(s[d],8)
    s[c]=(s[c]+s[d])&0xffffffff; s[b]^=s[c]; s[b]=rotl(s[b],7)
def hchacha20(key, nonce16):
    s = [0x61707865,0x3320646e,0x79622d32,0x6b206574] + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', nonce16))
    for _ in range(10):
        qr(s,0,4,8,12); qr(s,1,5,9,13); qr(s,2,6,10,14); qr(s,3,7,11,15)
        qr(s,0,5,10,15); qr(s,1,6,11,12); qr(s,2,7,8,13); qr(s,3,4,9,14)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))
def xchacha_seal(key, nonce24, msg, aad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(b'\0'*4 + nonce24[16:], msg, aad)

# RFC draft-irtf-cfrg-xchacha test for HChaCha20 (section 2.2.1)
assert hchacha20(bytes(range(32)), bytes.fromhex('000000090000004a0000000031415927')).hex() == \
    '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc'

def hkdf(salt, ikm, info):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b'\x01', hashlib.sha256).digest()
SALT = b'parley/v1/vault/subkeys/salt-v01'
assert len(SALT) == 32
def key_hash(store_key, domain, ident):
    hk = hkdf(SALT, store_key, b'key hashes')
    return hmac.new(hk, struct.pack('>I', len(domain)) + domain + ident, hashlib.sha256).digest()[:16]

def b(n, seed):
    return hashlib.sha256(seed.encode()).digest()[:n] if n <= 32 else (hashlib.sha256(seed.encode()).digest() + hashlib.sha256((seed+'+').encode()).digest())[:n]

wraps = []
for i, (pw, m, t, p) in enumerate([("correct horse battery staple", 1024, 1, 1), ("zq-pass-ünïcode", 2048, 2, 2)]):
    sk, salt, nonce = b(32, f"sk{i}"), b(16, f"salt{i}"), b(24, f"nonce{i}")
    kek = Argon2id(salt=salt, length=32, iterations=t, lanes=p, memory_cost=m).derive(pw.encode())
    header = bytes([1]) + struct.pack('>III', m, t, p) + salt
    wrapped = header + nonce + xchacha_seal(kek, nonce, sk, header)
    wraps.append(dict(passphrase=pw, memory_kib=m, passes=t, lanes=p, store_key=sk.hex(), salt=salt.hex(), nonce=nonce.hex(), kek=kek.hex(), wrapped=wrapped.hex()))

hashes = []
for i, (d, ident) in enumerate([(b"contact", b"zq-alice-77"), (b"conv", "zq-summit-geneva".encode()), (b"prefix", b"mls"), (b"", b"")]):
    sk = b(32, "hash-sk")
    hashes.append(dict(store_key=sk.hex(), domain=d.hex(), id=ident.hex(), key_hash=key_hash(sk, d, ident).hex()))

seals = []
for i, (aad, val) in enumerate([(b"aad-slot-1", b"hello vault"), (b"", b"")]):
    sk, nonce = b(32, f"seal-sk{i}"), b(24, f"seal-nonce{i}")
    vk = hkdf(SALT, sk, b'values')
    seals.append(dict(store_key=sk.hex(), aad=aad.hex(), value=val.hex(), nonce=nonce.hex(), sealed=(bytes([1]) + nonce + xchacha_seal(vk, nonce, val, aad)).hex()))

print(json.dumps(dict(
  generator="independent: Python `cryptography` (Argon2id, ChaCha20-Poly1305, HMAC) with HChaCha20 written out; not the Rust code under test",
  wrap=wraps, key_hash=hashes, seal=seals), indent=2, ensure_ascii=False))
