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

export function isNonPublicIPv6(ip: string): boolean {
  const lower = ip.toLowerCase();
  if (lower === '::' || lower === '::1') return true;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (mapped) return isNonPublicIPv4(mapped[1]!);
  return /^(fc|fd|fe8|fe9|fea|feb|ff)/.test(lower);
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
  if (isNonPublicAddress(host)) return `callbackUrl targets a non-public address (${host}); add it to CALLBACK_HOST_ALLOWLIST to allow it`;
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal') || !host.includes('.')) {
    return `callbackUrl targets a local-only host name (${host}); add it to CALLBACK_HOST_ALLOWLIST to allow it`;
  }
  return null;
}
