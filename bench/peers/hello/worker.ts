import { Hono } from 'hono';

/** The peer for the hot read path and for size and start: Hono's own hello-world template. */
const app = new Hono();
app.get('/', (c) => c.text('Hello Hono!'));

export default app;
