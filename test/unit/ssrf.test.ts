import { describe, expect, it } from 'vitest';
import { addressProblem, checkOutboundUrl, parseIPv6 } from '../../src/lib/ssrf';

const prod = { allowHttpTestHosts: false };
const dev = { allowHttpTestHosts: true };
const refused = (url: string, policy = prod) => {
  const r = checkOutboundUrl(url, policy);
  expect(r.ok, `${url} should be refused`).toBe(false);
  return r.ok ? '' : r.reason;
};

describe('the outbound URL guard', () => {
  it('allows public https URLs', () => {
    for (const url of [
      'https://example.com/hook',
      'https://hooks.example.org:8443/a?b=c',
      'https://8.8.8.8/',
      'https://[2606:4700:4700::1111]/',
    ]) {
      expect(checkOutboundUrl(url, prod).ok, url).toBe(true);
    }
  });

  it('refuses loopback, private, link-local and metadata addresses in every IPv4 spelling', () => {
    const forms = [
      'https://127.0.0.1/',
      'https://127.1/',
      'https://2130706433/',
      'https://0x7f000001/',
      'https://0177.0.0.1/',
      'https://0x7f.0.0.1/',
      'https://10.0.0.5/',
      'https://172.16.3.4/',
      'https://192.168.1.1/',
      'https://100.64.0.1/',
      'https://0.0.0.0/',
      'https://169.254.169.254/latest/meta-data/',
      'https://2852039166/',
      'https://0xa9fea9fe/',
      'https://0251.0376.0251.0376/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
    ];
    for (const url of forms) expect(refused(url), url).toMatch(/not public/);
  });

  it('refuses IPv6 loopback, unique-local, link-local and IPv4-mapped or -embedding forms', () => {
    const forms = [
      'https://[::1]/',
      'https://[::]/',
      'https://[0:0:0:0:0:0:0:1]/',
      'https://[fc00::1]/',
      'https://[fd00:ec2::254]/',
      'https://[fe80::1%25eth0]/',
      'https://[::ffff:127.0.0.1]/',
      'https://[::ffff:7f00:1]/',
      'https://[::ffff:169.254.169.254]/',
      'https://[::127.0.0.1]/',
      'https://[64:ff9b::10.0.0.1]/',
      'https://[2002:a9fe:a9fe::]/',
      'https://[ff02::1]/',
    ];
    for (const url of forms) expect(refused(url), url).toMatch(/not public|malformed|not a valid/);
  });

  it('refuses the IPv4-translated (SIIT) range ::ffff:0:0/96 and local-use NAT64, whatever address they embed', () => {
    for (const url of [
      'https://[::ffff:0:127.0.0.1]/',
      'https://[::ffff:0:7f00:1]/',
      'https://[0:0:0:0:ffff:0:a9fe:a9fe]/',
      'https://[::ffff:0:10.0.0.1]/',
      'https://[64:ff9b:1::a00:1]/',
    ]) {
      expect(refused(url), url).toMatch(/not public/);
    }
    expect(addressProblem('[::ffff:0:8.8.8.8]')).toBe('IPv4-translated (SIIT)');
    expect(addressProblem('[::ffff:0:127.0.0.1]')).toBe('loopback');
    expect(addressProblem('[64:ff9b:1::808:808]')).toBe('local-use NAT64');
    expect(addressProblem('[64:ff9b::808:808]')).toBeNull(); // the well-known NAT64 prefix to a public address
  });

  it('refuses local and metadata names, single labels, credentials and other schemes', () => {
    expect(refused('https://localhost/')).toMatch(/local or metadata/);
    expect(refused('https://api.localhost/')).toMatch(/local or metadata/);
    expect(refused('https://metadata.google.internal/computeMetadata/v1/')).toMatch(/local or metadata/);
    expect(refused('https://printer.local/')).toMatch(/local or metadata/);
    expect(refused('https://LOCALHOST./')).toMatch(/local or metadata/);
    expect(refused('https://intranet/')).toMatch(/single-label/);
    expect(refused('https://user:pass@example.com/')).toMatch(/credentials/);
    expect(refused('http://example.com/')).toMatch(/https/);
    expect(refused('ftp://example.com/')).toMatch(/https/);
    expect(refused('file:///etc/passwd')).toMatch(/https/);
    expect(refused('not a url')).toMatch(/valid/);
  });

  it('allows plain http only to .test hosts, and only outside production', () => {
    expect(checkOutboundUrl('http://hooks.test/x', dev).ok).toBe(true);
    expect(refused('http://hooks.test/x', prod)).toMatch(/https/);
    expect(refused('https://hooks.test/x', prod)).toMatch(/reserved for tests/);
    expect(refused('http://example.com/', dev)).toMatch(/https/);
    expect(refused('http://127.0.0.1/', dev)).toMatch(/https/);
  });

  it('parses IPv6 literals, including embedded IPv4', () => {
    expect(parseIPv6('::1')).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6('::ffff:192.168.0.1')).toEqual([0, 0, 0, 0, 0, 0xffff, 0xc0a8, 0x0001]);
    expect(parseIPv6('2001:db8::8:800:200c:417a')).toEqual([0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]);
    expect(parseIPv6('1::2::3')).toBeNull();
    expect(parseIPv6('12345::')).toBeNull();
    expect(addressProblem('[2606:4700:4700::1111]')).toBeNull();
    expect(addressProblem('93.184.216.34')).toBeNull();
  });
});
