/**
 * Callback URL screening against server-side request forgery. A callback may not target
 * loopback, private, link-local (cloud metadata), CGNAT or otherwise non-public addresses,
 * nor local-only host names, unless its host is on the configured allow-list. Host names are
 * resolved again at delivery time; this check rejects what is visibly wrong at intake.
 */
import { isIP } from 'node:net';

const V4_BLOCKED: ReadonlyArray<[number, number]> = [
  [0x00000000, 8], // 0.0.0.0/8 "this network"
  [0x0a000000, 8], // 10/8 private
  [0x64400000, 10], // 100.64/10 CGNAT
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local, cloud metadata
  [0xac100000, 12], // 172.16/12 private
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0a80000, 16], // 192.168/16 private
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xe0000000, 4], // 224/4 multicast
  [0xf0000000, 4], // 240/4 reserved, broadcast
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
}

export function isNonPublicIPv4(ip: string): boolean {
  const n = v4ToInt(ip);
  return V4_BLOCKED.some(([net, bits]) => (n & (~0 << (32 - bits))) >>> 0 === net >>> 0);
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded), or null. */
function ipv6Groups(ip: string): number[] | null {
  let text = ip.toLowerCase().split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToInt(v4[1]!);
    text = `${text.slice(0, v4.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * Loopback, unspecified, unique-local (fc00::/7), link-local (fe80::/10), multicast, documentation
 * (2001:db8::/32), discard (100::/64), and IPv4 embedded in IPv6 — mapped (::ffff:0:0/96, in either
 * notation: the URL parser writes ::ffff:169.254.169.254 as ::ffff:a9fe:a9fe), compatible (::/96)
 * and NAT64 (64:ff9b::/96) — judged by the IPv4 address they carry.
 */
export function isNonPublicIPv6(ip: string): boolean {
  const g = ipv6Groups(ip);
  if (!g) return true; // not an address we can judge: refuse
  const v4 = () => `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(7) && (g[7] === 0 || g[7] === 1)) return true;
  if (zeroUpTo(5) && g[5] === 0xffff) return isNonPublicIPv4(v4());
  if (zeroUpTo(6)) return isNonPublicIPv4(v4());
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return isNonPublicIPv4(v4());
  if ((g[0]! & 0xfe00) === 0xfc00 || (g[0]! & 0xffc0) === 0xfe80 || (g[0]! & 0xff00) === 0xff00) return true;
  if (g[0] === 0x2001 && g[1] === 0x0db8) return true;
  if (g[0] === 0x0100 && g.slice(1, 4).every((x) => x === 0)) return true;
  return false;
}

export function isNonPublicAddress(ip: string): boolean {
  const kind = isIP(ip);
  if (kind === 4) return isNonPublicIPv4(ip);
  if (kind === 6) return isNonPublicIPv6(ip);
  return false;
}

/** Why a callback URL is refused, or null when it may be used. */
export function callbackUrlProblem(rawUrl: string, hostAllowlist: readonly string[]): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return 'callbackUrl is not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'callbackUrl must use http or https';
  if (url.username || url.password) return 'callbackUrl must not carry credentials';
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (hostAllowlist.map((h) => h.toLowerCase()).includes(host)) return null;
  if (url.protocol !== 'https:')
    return `callbackUrl must use https (plain http only for hosts in CALLBACK_HOST_ALLOWLIST): ${host}`;
  if (isIP(host) !== 0)
    return isNonPublicAddress(host)
      ? `callbackUrl targets a non-public address (${host}); add it to CALLBACK_HOST_ALLOWLIST to allow it`
      : null;
  if (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host.endsWith('.local') ||
    host.endsWith('.internal') ||
    !host.includes('.')
  ) {
    return `callbackUrl targets a local-only host name (${host}); add it to CALLBACK_HOST_ALLOWLIST to allow it`;
  }
  return null;
}
