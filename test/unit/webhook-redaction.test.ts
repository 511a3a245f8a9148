import { describe, expect, it } from 'vitest';
import { withoutAddresses } from '../../src/delivery/webhook.js';
import { ADVERSARIAL_TEXTS } from '../helpers/adversarial-text.js';

describe('withoutAddresses', () => {
  it('replaces IPv4 and IPv6 addresses, with or without ports, and keeps the rest of the message', () => {
    expect(withoutAddresses('forbidden_address: hooks.example.org resolves to 10.0.0.7, a private address')).toBe(
      'forbidden_address: hooks.example.org resolves to [address], a private address',
    );
    expect(withoutAddresses('network: connect ECONNREFUSED 127.0.0.1:8443')).toBe(
      'network: connect ECONNREFUSED [address]',
    );
    expect(withoutAddresses('network: connect ECONNREFUSED [::1]:443.')).toBe(
      'network: connect ECONNREFUSED [address].',
    );
    expect(withoutAddresses('fd00::1 (link) and 169.254.169.254;')).toBe('[address] (link) and [address];');
  });

  it('leaves host names, versions, times and status codes alone', () => {
    const message = 'http_5xx: hooks.example.org answered 503 at 12:30:01 (v1.2.3, attempt 2 of 8)';
    expect(withoutAddresses(message)).toBe(message);
  });

  it.each(Object.entries(ADVERSARIAL_TEXTS(200_000)))('stays linear on %s', (_name, text) => {
    expect(withoutAddresses(text).length).toBeGreaterThan(0);
  });
});
