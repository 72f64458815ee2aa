import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { hashOpenDentalPassword, passwordFormat, verifyOpenDentalPassword } from '../../src/opendental/password.js';

// Vectors computed once with Python's hashlib (see the live cross-check below
// for how), never with the code under test.
const SALT64 = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=='; // bytes 0..63
const SALT16 = 'ZGVmZ2hpamtsbW5vcHFycw=='; // bytes 100..115
const VECTORS = [
  {
    password: 'correct horse battery staple',
    SHA3_512: `SHA3_512$${SALT64}$Qt1h+elHhoYD6ksGdJNYLXbZtJaV/zkgSEkHIE6C46QowzPeRJiOMXSJBkYxN0bPDc42+Qq8fVDs1ibaLYuilA==`,
    MD5: `MD5$${SALT16}$TeXMOVs9jZ6j63shl7GLSw==`,
    legacy: 'YPC2DLnoN+fspAmQE/vTEw==',
    MD5_ECW: 'MD5_ECW$$9cc2ae8a1ba7a93da39b46fc1019c481',
  },
  {
    password: 'Pässwörd 密码 🦷',
    SHA3_512: `SHA3_512$${SALT64}$2OwWVrsdO4RWE7KVVZOPsIncQZWfyz+DE7UGJa7JZCcCdQG15b25Hoi9eJ4jX20ZBOlGHPzwd7uYKw+hRCkjMQ==`,
    MD5: `MD5$${SALT16}$xkn9+CVElom6+wpHER6HPA==`,
    legacy: 'v5LVvAu13nOkBUBbAFv+dA==',
    MD5_ECW: 'MD5_ECW$$2d02510ce1687bf2f91c27e1128f4f3c',
  },
] as const;
const FORMATS = ['SHA3_512', 'MD5', 'legacy', 'MD5_ECW'] as const;

test('fixed vectors verify, and hashing with the same salt reproduces them', () => {
  for (const v of VECTORS) {
    for (const f of FORMATS) {
      assert.equal(verifyOpenDentalPassword(v[f], v.password), true, `${f} ${v.password}`);
      assert.equal(verifyOpenDentalPassword(v[f], v.password + 'x'), false);
      assert.equal(verifyOpenDentalPassword(v[f], v.password.toUpperCase()), false);
      assert.equal(passwordFormat(v[f]), f);
      const salt = f === 'SHA3_512' ? SALT64 : f === 'MD5' ? SALT16 : undefined;
      assert.equal(hashOpenDentalPassword(v.password, f, salt), v[f]);
    }
  }
});

test('hand-built SHA3 input: the salt string is hashed as text, UTF-16LE, before the password', () => {
  // Build the bytes by hand: each ASCII char followed by a zero byte.
  const salt = 'c2FsdA==';
  const text = salt + 'pw';
  const bytes = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) bytes[i * 2] = text.charCodeAt(i);
  const py = python(`import hashlib,base64,sys; print(base64.b64encode(hashlib.sha3_512(bytes.fromhex(sys.argv[1])).digest()).decode())`, bytes.toString('hex'));
  if (py === null) return;
  assert.equal(verifyOpenDentalPassword(`SHA3_512$${salt}$${py}`, 'pw'), true);
});

test('live cross-check against Python hashlib with random salts and passwords', () => {
  const script = `
import hashlib, base64, json, sys
out = []
for salt, pw in json.loads(sys.argv[1]):
    u = (salt + pw).encode('utf-16-le')
    out.append({
        'SHA3_512': 'SHA3_512$%s$%s' % (salt, base64.b64encode(hashlib.sha3_512(u).digest()).decode()),
        'MD5': 'MD5$%s$%s' % (salt, base64.b64encode(hashlib.md5(u).digest()).decode()),
        'legacy': base64.b64encode(hashlib.md5(pw.encode('utf-16-le')).digest()).decode(),
        'MD5_ECW': 'MD5_ECW$$' + hashlib.md5(pw.encode('ascii', 'replace')).hexdigest(),
    })
print(json.dumps(out))`;
  const cases: [string, string][] = [];
  const alphabet = ['a', 'Z', '0', ' ', '$', '\t', 'é', 'Ж', '中', 'ع', '😀', '"', '\\'];
  for (let i = 0; i < 40; i++) {
    const salt = Buffer.from(Array.from({ length: 64 }, (_, j) => (i * 31 + j * 7) & 255)).toString('base64');
    let pw = '';
    for (let j = 0; j < 1 + (i % 17); j++) pw += alphabet[(i * 5 + j * 3) % alphabet.length];
    cases.push([salt, pw]);
  }
  const out = python(script, JSON.stringify(cases));
  const expected = JSON.parse(out) as Record<(typeof FORMATS)[number], string>[];
  cases.forEach(([salt, pw], i) => {
    for (const f of FORMATS) {
      const stored = expected[i]![f];
      assert.equal(verifyOpenDentalPassword(stored, pw), true, `${f} ${JSON.stringify(pw)}`);
      if (f === 'SHA3_512' || f === 'MD5') assert.equal(hashOpenDentalPassword(pw, f, salt), stored);
    }
  });
});

test('no password, empty hash, and unparseable values never verify', () => {
  assert.equal(verifyOpenDentalPassword('', ''), false);
  assert.equal(verifyOpenDentalPassword('', 'anything'), false);
  assert.equal(passwordFormat(''), 'none');
  // Open Dental stores the empty password as an empty hash part.
  const empty = hashOpenDentalPassword('', 'SHA3_512', SALT64);
  assert.equal(empty, `SHA3_512$${SALT64}$`);
  assert.equal(passwordFormat(empty), 'none');
  assert.equal(verifyOpenDentalPassword(empty, ''), false);
  assert.equal(passwordFormat('None$$plaintext'), 'none');
  for (const junk of ['hunter2', 'SHA3_512$abc', 'SHA256$a$b', 'SHA3_512$a$b$c', 'MD5_ECW$$xyz', `SHA3_512$${SALT64}$notbase64!`, 'YPC2DLnoN+fspAmQE/vTEw']) {
    assert.equal(passwordFormat(junk), 'unknown', junk);
    assert.equal(verifyOpenDentalPassword(junk, 'hunter2'), false, junk);
  }
});

test('a truncated or altered hash is rejected', () => {
  const v = VECTORS[0];
  const cut = v.SHA3_512.slice(0, -4) + '====';
  assert.equal(verifyOpenDentalPassword(cut, v.password), false);
  const flipped = v.MD5.replace(/\$T/, '$U');
  assert.equal(verifyOpenDentalPassword(flipped, v.password), false);
  assert.equal(verifyOpenDentalPassword(v.SHA3_512.replace(SALT64, SALT16), v.password), false);
});

test('fresh hashes use a random 64-byte salt and round-trip', () => {
  const a = hashOpenDentalPassword('s3cret');
  const b = hashOpenDentalPassword('s3cret');
  assert.notEqual(a, b);
  const [type, salt] = a.split('$');
  assert.equal(type, 'SHA3_512');
  assert.equal(Buffer.from(salt!, 'base64').length, 64);
  assert.equal(verifyOpenDentalPassword(a, 's3cret'), true);
  assert.equal(verifyOpenDentalPassword(hashOpenDentalPassword('s3cret', 'MD5'), 's3cret'), true);
  assert.throws(() => hashOpenDentalPassword('x', 'SHA3_512', 'a$b'));
});

/** An independent implementation of the hashes; never skipped: scripts/test-setup.sh installs python3. */
function python(script: string, arg: string): string {
  try {
    return execFileSync('python3', ['-c', script, arg], { encoding: 'utf8' }).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('python3 is missing: run scripts/test-setup.sh as root (npm test does), or apt-get install python3');
    throw err;
  }
}
