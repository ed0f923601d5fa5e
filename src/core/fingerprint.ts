/**
 * Alertmanager's alert fingerprint, for senders that leave it out (Alertmanager before 0.19,
 * relays, hand-made bodies): prometheus/common `LabelSet.Fingerprint()`, which is FNV-1a 64 over
 * the label names in byte order, each name and each value followed by the separator byte 0xff,
 * printed as 16 lowercase hex digits. Computing it the same way means an alert keeps one identity
 * whether or not a sender included it. Pure.
 */

/** SEPARATOR: a byte no UTF-8 text contains, between names and values (prometheus/common SeparatorByte). */
const SEPARATOR = 0xff

const utf8 = new TextEncoder()

/** byteOrder compares UTF-8 encodings as Go compares strings: byte by byte (UTF-16 order differs past U+FFFF). */
function byteOrder(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

/**
 * Fnv64a is FNV-1a 64 in four 16-bit limbs (plain numbers, no BigInt: a 100 KB label hashes fast).
 * The prime is 2^40 + 0x1b3, so h * prime = (h << 40) + h * 0x1b3, modulo 2^64.
 */
class Fnv64a {
  // the offset basis 0xcbf29ce484222325, lowest limb first
  #h = [0x2325, 0x8422, 0x9ce4, 0xcbf2]

  add(bytes: Uint8Array): void {
    for (const byte of bytes) this.addByte(byte)
  }

  addByte(byte: number): void {
    const h = this.#h
    h[0]! ^= byte
    const [h0, h1, h2, h3] = h as [number, number, number, number]
    let r0 = h0 * 0x1b3
    let r1 = h1 * 0x1b3
    let r2 = h2 * 0x1b3 + (h0 << 8)
    let r3 = h3 * 0x1b3 + (h1 << 8)
    r1 += r0 >>> 16
    r0 &= 0xffff
    r2 += r1 >>> 16
    r1 &= 0xffff
    r3 += r2 >>> 16
    r2 &= 0xffff
    r3 &= 0xffff
    this.#h = [r0, r1, r2, r3]
  }

  hex(): string {
    return this.#h
      .toReversed()
      .map((limb) => limb.toString(16).padStart(4, '0'))
      .join('')
  }
}

/** labelsFingerprint is Alertmanager's fingerprint of a label set: 16 lowercase hex digits. */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const pairs = Object.entries(labels).map(([name, value]) => [utf8.encode(name), utf8.encode(value)] as const)
  pairs.sort(([a], [b]) => byteOrder(a, b))
  const hash = new Fnv64a()
  for (const [name, value] of pairs) {
    hash.add(name)
    hash.addByte(SEPARATOR)
    hash.add(value)
    hash.addByte(SEPARATOR)
  }
  return hash.hex()
}
