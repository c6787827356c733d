import { describe, expect, it } from 'vitest';
import { contains, formatAddress, normaliseCidr, parseAddress, parseCidr } from '../../src/security/cidr';
import { admits } from '../../src/security/ip-rules';
import { ipSubject } from '../../src/security/rate-limits';

const inBlock = (cidr: string, ip: string) => contains(parseCidr(cidr)!, parseAddress(ip)!);

describe('addresses', () => {
  it('parses IPv4 dotted quads and refuses ambiguous forms', () => {
    expect(formatAddress(parseAddress('192.0.2.1')!)).toBe('192.0.2.1');
    expect(formatAddress(parseAddress('0.0.0.0')!)).toBe('0.0.0.0');
    expect(formatAddress(parseAddress('255.255.255.255')!)).toBe('255.255.255.255');
    for (const bad of [
      '256.0.0.1',
      '1.2.3',
      '1.2.3.4.5',
      '01.2.3.4',
      '1.2.3.04',
      '0x7f.0.0.1',
      '2130706433',
      '1.2.3.4 5',
      '',
      ' ',
      '1..2.3',
      '-1.2.3.4',
      '1.2.3.4/',
    ]) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });

  it('parses IPv6 in full, compressed and mixed forms, printing RFC 5952 text', () => {
    expect(formatAddress(parseAddress('2001:0db8:0000:0000:0000:ff00:0042:8329')!)).toBe('2001:db8::ff00:42:8329');
    expect(formatAddress(parseAddress('2001:DB8::FF00:42:8329')!)).toBe('2001:db8::ff00:42:8329');
    expect(formatAddress(parseAddress('::')!)).toBe('::');
    expect(formatAddress(parseAddress('::1')!)).toBe('::1');
    expect(formatAddress(parseAddress('fe80::')!)).toBe('fe80::');
    expect(formatAddress(parseAddress('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
    expect(formatAddress(parseAddress('1:0:2:3:4:5:6:7')!)).toBe('1:0:2:3:4:5:6:7');
    expect(formatAddress(parseAddress('64:ff9b::192.0.2.33')!)).toBe('64:ff9b::c000:221');
    for (const bad of [
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      ':::',
      '1:2:3:4:5:6:7',
      '12345::',
      'g::1',
      'fe80::1%eth0',
      '[::1]',
      '::1.2.3',
      '1.2.3.4::',
      ':1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
    ]) {
      expect(parseAddress(bad), bad).toBeNull();
    }
  });

  it('treats IPv4-mapped IPv6 addresses as the IPv4 address', () => {
    expect(parseAddress('::ffff:192.0.2.1')).toEqual(parseAddress('192.0.2.1'));
    expect(parseAddress('::FFFF:c000:0201')).toEqual(parseAddress('192.0.2.1'));
    expect(parseAddress('0:0:0:0:0:ffff:192.0.2.1')).toEqual(parseAddress('192.0.2.1'));
    // IPv4-compatible (deprecated) and NAT64 forms are IPv6, not IPv4.
    expect(parseAddress('::192.0.2.1')!.family).toBe(6);
  });
});

describe('CIDR blocks', () => {
  it('normalises to the network address and canonical text', () => {
    expect(normaliseCidr('10.1.2.3/8')).toBe('10.0.0.0/8');
    expect(normaliseCidr('192.0.2.7')).toBe('192.0.2.7/32');
    expect(normaliseCidr('192.0.2.255/25')).toBe('192.0.2.128/25');
    expect(normaliseCidr('0.0.0.0/0')).toBe('0.0.0.0/0');
    expect(normaliseCidr('1.2.3.4/0')).toBe('0.0.0.0/0');
    expect(normaliseCidr('2001:DB8:0:0:1::1/48')).toBe('2001:db8::/48');
    expect(normaliseCidr('2001:db8::1')).toBe('2001:db8::1/128');
    expect(normaliseCidr('2001:db8::ffff/127')).toBe('2001:db8::fffe/127');
    expect(normaliseCidr('::/0')).toBe('::/0');
    expect(normaliseCidr('ffff::/1')).toBe('8000::/1');
    expect(normaliseCidr('::ffff:10.9.8.7/104')).toBe('10.0.0.0/8');
    expect(normaliseCidr('::ffff:10.9.8.7')).toBe('10.9.8.7/32');
  });

  it('refuses out-of-range prefixes and garbage', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/',
      '10.0.0.0/08',
      '10.0.0.0/8/8',
      '::/129',
      '2001:db8::/1x',
      'localhost',
      '10.0.0.0/ 8',
      '/8',
      '010.0.0.0/8',
      'a'.repeat(60),
    ]) {
      expect(parseCidr(bad), bad).toBeNull();
    }
    expect(normaliseCidr(' 10.0.0.0/8 ')).toBe('10.0.0.0/8');
  });

  it('matches the edge prefixes of both families', () => {
    expect(inBlock('0.0.0.0/0', '203.0.113.9')).toBe(true);
    expect(inBlock('203.0.113.9/32', '203.0.113.9')).toBe(true);
    expect(inBlock('203.0.113.9/32', '203.0.113.8')).toBe(false);
    expect(inBlock('203.0.113.0/24', '203.0.113.255')).toBe(true);
    expect(inBlock('203.0.113.0/24', '203.0.114.0')).toBe(false);
    expect(inBlock('128.0.0.0/1', '127.255.255.255')).toBe(false);
    expect(inBlock('128.0.0.0/1', '128.0.0.0')).toBe(true);
    expect(inBlock('::/0', '2001:db8::1')).toBe(true);
    expect(inBlock('2001:db8::/32', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff')).toBe(true);
    expect(inBlock('2001:db8::/32', '2001:db9::')).toBe(false);
    expect(inBlock('2001:db8::1/128', '2001:db8::1')).toBe(true);
    expect(inBlock('2001:db8::1/128', '2001:db8::2')).toBe(false);
    expect(inBlock('2001:db8::/127', '2001:db8::1')).toBe(true);
  });

  it('never matches across families, but mapped addresses match IPv4 rules', () => {
    expect(inBlock('::/0', '192.0.2.1')).toBe(false);
    expect(inBlock('0.0.0.0/0', '2001:db8::1')).toBe(false);
    expect(inBlock('192.0.2.0/24', '::ffff:192.0.2.77')).toBe(true);
    expect(inBlock('::ffff:192.0.2.0/120', '192.0.2.77')).toBe(true);
  });
});

describe('allow/deny evaluation', () => {
  const rules = (...specs: ['allow' | 'deny', string][]) => specs.map(([action, cidr]) => ({ action, block: parseCidr(cidr)! }));
  const ip = (s: string) => parseAddress(s);

  it('admits everything without rules, and deny beats allow', () => {
    expect(admits([], ip('192.0.2.1'))).toBe('admitted');
    const r = rules(['allow', '192.0.2.0/24'], ['deny', '192.0.2.66/32']);
    expect(admits(r, ip('192.0.2.1'))).toBe('admitted');
    expect(admits(r, ip('192.0.2.66'))).toBe('denied');
    expect(admits(r, ip('198.51.100.1'))).toBe('not_allowed');
  });

  it('with deny rules only, everything else passes; an unparsable address fails an allow list only', () => {
    expect(admits(rules(['deny', '192.0.2.0/24']), ip('198.51.100.1'))).toBe('admitted');
    expect(admits(rules(['deny', '192.0.2.0/24']), null)).toBe('admitted');
    expect(admits(rules(['allow', '0.0.0.0/0']), null)).toBe('not_allowed');
  });
});

describe('rate-limit IP subjects', () => {
  it('counts IPv4 per address and IPv6 per /64', () => {
    expect(ipSubject('203.0.113.9')).toEqual({ kind: 'ip', id: '203.0.113.9' });
    expect(ipSubject('::ffff:203.0.113.9')).toEqual({ kind: 'ip', id: '203.0.113.9' });
    expect(ipSubject('2001:db8:1:2:aaaa::1')).toEqual({ kind: 'ip', id: '2001:db8:1:2::/64' });
    expect(ipSubject('2001:db8:1:2:bbbb::2')).toEqual(ipSubject('2001:db8:1:2:aaaa::1'));
  });
});
