/**
 * The outbound-URL guard (server-side request forgery). Anything that makes the Worker fetch a
 * URL a user supplied (webhook tasks today; notification channels later) checks it here first,
 * and fetches with `redirect: 'manual'` so a public URL cannot bounce the request elsewhere.
 *
 * What is checked: the scheme (https; plain http only for `*.test` hosts outside production, the
 * reserved TLD the test suite's fake receiver uses), no credentials in the URL, no local names
 * (`localhost`, `*.local`, `*.internal`, single-label names, metadata host names), and every
 * literal address in every spelling — WHATWG URL parsing already turns decimal, octal and hex
 * IPv4 forms (`2130706433`, `0177.1`, `0x7f.0.0.1`) into dotted quads, and IPv6 is expanded here,
 * including IPv4-mapped, IPv4-compatible, IPv4-translated (SIIT), NAT64 and 6to4 addresses that
 * embed an IPv4 one.
 *
 * What is not: the addresses a host *name* resolves to. Workers have no DNS API, and a lookup
 * over DNS-over-HTTPS would still race a rebinding answer. On Cloudflare a Worker's subrequests
 * leave from Cloudflare's edge, which does not route to private networks; we rely on that for
 * names, and admit it here rather than pretend the check covers it.
 */
export type OutboundCheck = { ok: true; url: URL } | { ok: false; reason: string };

export type OutboundPolicy = {
  /** Allow `http:` for hosts under the reserved `.test` TLD (development and tests only). */
  allowHttpTestHosts: boolean;
};

const BLOCKED_NAMES = new Set(['localhost', 'metadata', 'metadata.google.internal', 'instance-data', 'instance-data.ec2.internal']);
const BLOCKED_SUFFIXES = ['.localhost', '.local', '.internal', '.intranet', '.lan', '.home.arpa', '.corp'];

/** IPv4 ranges that are not the public internet: [network, prefix length, why]. */
const V4_BLOCKED: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, '6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

function v4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n;
}

function v4Problem(n: number): string | null {
  // Compared by division, not bit masks: JS bitwise operators are signed 32-bit.
  for (const [net, bits, why] of V4_BLOCKED) {
    const size = 2 ** (32 - bits);
    if (Math.floor(n / size) === Math.floor(v4ToInt(net)! / size)) return why;
  }
  return null;
}

/** Expands an IPv6 literal (without brackets) into eight 16-bit groups, or null if malformed. */
export function parseIPv6(input: string): number[] | null {
  let s = input.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  // A trailing dotted quad (::ffff:127.0.0.1) becomes its two hex groups.
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = v4ToInt(last);
    if (v4 === null) return null;
    s = `${s.slice(0, lastColon + 1)}${Math.floor(v4 / 65536).toString(16)}:${(v4 % 65536).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const parse = (h: string) => (h === '' ? [] : h.split(':').map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  if (halves.length === 2 && head.length + rest.length > 7) return null;
  const groups = halves.length === 2 ? [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest] : head;
  if (groups.length !== 8 || groups.some((g) => Number.isNaN(g))) return null;
  return groups;
}

function v6Problem(g: number[]): string | null {
  const embedded = (hi: number, lo: number) => v4Problem(hi * 65536 + lo);
  if (g.every((x) => x === 0)) return 'unspecified';
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'loopback';
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible): judged by the IPv4 address.
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0))
    return embedded(g[6]!, g[7]!) ?? (g[5] === 0 ? 'IPv4-compatible' : null);
  // ::ffff:0:a.b.c.d (IPv4-translated, RFC 2765/6145): a translator on the path turns it into the
  // IPv4 address, private or not; nothing on the public internet is reached by one. The whole range.
  if (g.slice(0, 4).every((x) => x === 0) && g[4] === 0xffff && g[5] === 0) return embedded(g[6]!, g[7]!) ?? 'IPv4-translated (SIIT)';
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 0) return embedded(g[6]!, g[7]!) ?? null;
  // 64:ff9b:1::/48 is the local-use NAT64 prefix (RFC 8215): a network's own translator.
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'local-use NAT64';
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!) ?? null;
  if (g[0] === 0x2001 && g[1] === 0) return 'Teredo';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'documentation';
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique local (private)';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  return null;
}

/** Why an address literal may not be called, or null when it is a public address. */
export function addressProblem(host: string): string | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare.includes(':')) {
    const groups = parseIPv6(bare);
    return groups ? v6Problem(groups) : 'malformed IPv6 address';
  }
  const v4 = v4ToInt(bare);
  return v4 === null ? null : v4Problem(v4);
}

/**
 * Checks a URL a user asked us to call.
 * @example checkOutboundUrl('https://example.com/hook', { allowHttpTestHosts: false }) // { ok: true, url }
 */
export function checkOutboundUrl(raw: string, policy: OutboundPolicy): OutboundCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  const testHost = host.endsWith('.test');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttpTestHosts && testHost)) {
    return { ok: false, reason: 'only https URLs may be called' };
  }
  if (url.username || url.password) return { ok: false, reason: 'credentials in the URL are not allowed; use a header' };
  if (!host) return { ok: false, reason: 'the URL has no host' };
  const literal = addressProblem(host);
  if (literal) return { ok: false, reason: `the address is not public (${literal})` };
  const isLiteral = host.startsWith('[') || v4ToInt(host) !== null;
  if (!isLiteral) {
    if (BLOCKED_NAMES.has(host) || BLOCKED_SUFFIXES.some((s) => host.endsWith(s)))
      return { ok: false, reason: 'the host is a local or metadata name' };
    if (!host.includes('.')) return { ok: false, reason: 'single-label host names are not allowed' };
    if (testHost && !policy.allowHttpTestHosts) return { ok: false, reason: 'the .test domain is reserved for tests' };
  }
  return { ok: true, url };
}
