import { describe, expect, it } from 'vitest';
import { allowedMethods, patternRegExp, routeTable } from '../../src/lib/allowed-methods';

describe('allowedMethods', () => {
  const table = routeTable([
    { method: 'ALL', path: '/*' },
    { method: 'GET', path: '/items' },
    { method: 'POST', path: '/items' },
    { method: 'GET', path: '/items/:id' },
    { method: 'DELETE', path: '/items/:id' },
    { method: 'GET', path: '/items/export' },
    { method: 'PUT', path: '/n/:id{[0-9]+}' },
    { method: 'POST', path: '/files/*' },
  ]);

  it('unites the methods of every pattern a path matches, adding HEAD beside GET and OPTIONS', () => {
    expect(allowedMethods(table, '/items')).toEqual(['GET', 'HEAD', 'POST', 'OPTIONS']);
    expect(allowedMethods(table, '/items/42')).toEqual(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
    expect(allowedMethods(table, '/items/export')).toEqual(['GET', 'HEAD', 'DELETE', 'OPTIONS']);
  });

  it('honours parameter patterns and wildcards, and ignores middleware (ALL)', () => {
    expect(allowedMethods(table, '/n/7')).toEqual(['PUT', 'OPTIONS']);
    expect(allowedMethods(table, '/n/seven')).toEqual([]);
    expect(allowedMethods(table, '/files')).toEqual(['POST', 'OPTIONS']);
    expect(allowedMethods(table, '/files/a/b')).toEqual(['POST', 'OPTIONS']);
    expect(allowedMethods(table, '/elsewhere')).toEqual([]);
  });

  it('matches whole paths only, with literal dots', () => {
    expect(allowedMethods(table, '/items/42/more')).toEqual([]);
    expect(patternRegExp('/openapi.json').test('/openapiXjson')).toBe(false);
    expect(patternRegExp('/').test('/')).toBe(true);
  });
});
