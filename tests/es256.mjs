// SPDX-License-Identifier: Apache-2.0
// ES256 signatures as the suite's verifiers accept them: JOSE's r||s with s in its low half
// (s <= n/2). OpenSSL signs with s or n - s at random; both verify mathematically, and libcrm
// accepts only the low one so that a token has exactly one spelling (issue 10, #11).
import { sign } from 'node:crypto';

/** The order n of P-256. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBig = (buf) => BigInt(`0x${Buffer.from(buf).toString('hex')}`);
const to32 = (n) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');

/** The signature 'sig' (64 bytes r||s) with s replaced by n - s: the other spelling. */
export function flipS(sig) {
  const s = toBig(sig.subarray(32));
  return Buffer.concat([sig.subarray(0, 32), to32(P256_N - s)]);
}

/** True when the s of the 64-byte 'sig' is in its low half. */
export const isLowS = (sig) => toBig(sig.subarray(32)) <= P256_N / 2n;

/** The low-S ES256 signature (64 bytes) of 'input' by the P-256 private 'key'. */
export function es256Sign(input, key) {
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return isLowS(sig) ? sig : flipS(sig);
}
