import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../src/lib/errors';
import type { AppEnv } from '../../src/lib/context';
import { errorHandler, notFoundHandler } from '../../src/lib/middleware';

function appThatThrows(err: unknown) {
  const app = new Hono<AppEnv>();
  app.use(requestId());
  app.get('/boom', () => {
    throw err;
  });
  app.onError(errorHandler());
  app.notFound(notFoundHandler);
  return app;
}

afterEach(() => vi.restoreAllMocks());

describe('onError', () => {
  it('answers an unexpected fault with a generic 500, logging the stack with the request id', async () => {
    const logged: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((line: string) => void logged.push(line));
    const res = await appThatThrows(new Error('db password is hunter2')).request('/boom', {}, { LOG_LEVEL: 'info' });
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body).toEqual({
      error: { code: 'internal_error', message: 'Internal server error', requestId: res.headers.get('x-request-id') },
    });
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(logged).toHaveLength(1);
    const line = JSON.parse(logged[0]!);
    expect(line).toMatchObject({
      level: 'error',
      requestId: body.error.requestId,
      path: '/boom',
      error: { message: 'db password is hunter2' },
    });
    expect(line.error.stack).toContain('Error');
  });

  it('renders ApiErrors with their code, status, details and headers', async () => {
    const res = await appThatThrows(
      new ApiError('rate_limited', 'slow down', { details: { a: 1 }, headers: { 'Retry-After': '7' } }),
    ).request('/boom');
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toMatchObject({ error: { code: 'rate_limited', message: 'slow down', details: { a: 1 } } });
  });

  it('answers unknown paths with the not_found shape', async () => {
    const res = await appThatThrows(new Error('x')).request('/elsewhere');
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
