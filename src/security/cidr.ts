/**
 * IPv4 and IPv6 addresses and CIDR blocks, parsed strictly and matched bitwise.
 *
 * Addresses are kept as bytes (4 or 16) with their family. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`) is the IPv4 address: a dual-stack socket reports IPv4 clients that way,
 * and an IPv4 rule must match them. Blocks are normalised to their network address
 * (`10.1.2.3/8` becomes `10.0.0.0/8`), so what is stored and shown is what is matched.
 * Anything ambiguous is rejected rather than guessed: IPv4 parts with leading zeros (octal in
 * some parsers), fewer than four parts, zone ids (`%eth0`), brackets, and prefixes out of range.
 */
export type Family = 4 | 6;
export type Address = { family: Family; bytes: Uint8Array };
export type Cidr = { family: Family; bytes: Uint8Array; prefix: number };

const V4_PART = /^(0|[1-9][0-9]{0,2})$/;
const V6_GROUP = /^[0-9a-f]{1,4}$/;

function parseV4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!V4_PART.test(parts[i]!)) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    bytes[i] = n;
  }
  return bytes;
}

/** Groups of one side of `::`: hex groups, the last of which may be a dotted IPv4 address. */
function parseGroups(side: string, allowV4Tail: boolean): number[] | null {
  if (side === '') return [];
  const parts = side.split(':');
  const groups: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (allowV4Tail && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseV4(part);
      if (!v4) return null;
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!V6_GROUP.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
  }
  return groups;
}

function parseV6(text: string): Uint8Array | null {
  const lower = text.toLowerCase();
  const halves = lower.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0]!, false);
    const tail = parseGroups(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(lower, true);
    if (all?.length !== 8) return null;
    groups = all;
  }
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

const isMapped = (b: Uint8Array) => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;

/** Parses an address; IPv4-mapped IPv6 addresses come back as IPv4. Null when not an address. */
export function parseAddress(text: string): Address | null {
  const s = text.trim();
  if (s.length === 0 || s.length > 45) return null;
  if (!s.includes(':')) {
    const v4 = parseV4(s);
    return v4 ? { family: 4, bytes: v4 } : null;
  }
  const v6 = parseV6(s);
  if (!v6) return null;
  return isMapped(v6) ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

function maskTo(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

/**
 * Parses `address/prefix` (or a bare address: a single host) into its network block. A mapped
 * IPv6 block with a prefix of 96 or more is the IPv4 block it covers.
 */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  if (s.length > 49) return null;
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const prefixText = slash === -1 ? null : s.slice(slash + 1);
  if (prefixText !== null && !/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return null;
  if (addrText.includes(':')) {
    const v6 = parseV6(addrText);
    if (!v6) return null;
    const prefix = prefixText === null ? 128 : Number(prefixText);
    if (prefix > 128) return null;
    if (isMapped(v6) && prefix >= 96) return { family: 4, bytes: maskTo(v6.slice(12), prefix - 96), prefix: prefix - 96 };
    return { family: 6, bytes: maskTo(v6, prefix), prefix };
  }
  const v4 = parseV4(addrText);
  if (!v4) return null;
  const prefix = prefixText === null ? 32 : Number(prefixText);
  if (prefix > 32) return null;
  return { family: 4, bytes: maskTo(v4, prefix), prefix };
}

/** True when the address lies in the block; families never cross (mapped addresses are IPv4). */
export function contains(block: Cidr, addr: Address): boolean {
  if (block.family !== addr.family) return false;
  const masked = maskTo(addr.bytes, block.prefix);
  return masked.every((b, i) => b === block.bytes[i]);
}

/** RFC 5952 text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatAddress(a: Address): string {
  if (a.family === 4) return Array.from(a.bytes).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (a.bytes[2 * i]! << 8) | a.bytes[2 * i + 1]!);
  let best = { start: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { start: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.len < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.len).join(':')}`;
}

export const formatCidr = (c: Cidr) => `${formatAddress(c)}/${c.prefix}`;

/** The canonical text of a block, or null when it does not parse. */
export function normaliseCidr(text: string): string | null {
  const c = parseCidr(text);
  return c ? formatCidr(c) : null;
}
