import { env, runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { AGING_MS, GLOBAL_IN_FLIGHT, PER_USER_IN_FLIGHT, type DispatchItem } from '../../src/tasks/dispatch';

/*
 * Each test drives its own dispatcher object. The ids are not real tasks: the queue consumer
 * that receives them finds no row and drops them, so the dispatcher's slots show exactly what
 * it chose, in its own storage.
 */
let n = 0;
const stubFor = () => env.TASK_DISPATCHER.get(env.TASK_DISPATCHER.idFromName(`unit-${Date.now()}-${n++}`));
let nextId = 900_000;
const item = (ownerId: number, priority: DispatchItem['priority'], eligibleAt = Date.now() - 1000): DispatchItem => ({
  taskId: nextId++,
  ownerId,
  priority,
  eligibleAt,
});

async function dispatchedInOrder(stub: ReturnType<typeof stubFor>) {
  return runInDurableObject(stub, (_, state) =>
    state.storage.sql
      .exec<{ task_id: number; seq: number }>("SELECT task_id, seq FROM slots WHERE state = 'inflight' ORDER BY seq")
      .toArray()
      .map((r) => r.task_id),
  );
}

describe('the task dispatcher', () => {
  it('starts higher priorities first, and at most the per-user cap', async () => {
    const stub = stubFor();
    const lows = [item(1, 'low'), item(1, 'low'), item(1, 'low')];
    const normals = [item(1, 'normal'), item(1, 'normal')];
    const criticals = [item(1, 'critical'), item(1, 'critical')];
    await stub.enqueue([...lows, ...normals, ...criticals]);
    const order = await dispatchedInOrder(stub);
    expect(order).toHaveLength(PER_USER_IN_FLIGHT);
    expect(order).toEqual([...criticals, ...normals, lows[0]!].map((i) => i.taskId));
  });

  it('gives a free slot to the user with fewer tasks in flight, even if they submitted later', async () => {
    const stub = stubFor();
    const flood = Array.from({ length: 8 }, () => item(10, 'normal'));
    const other = item(11, 'normal', Date.now());
    await stub.enqueue(flood);
    await stub.enqueue([other]);
    // The flood took its five slots; the other user's task was not blocked by the flood's backlog.
    const order = await dispatchedInOrder(stub);
    expect(order).toContain(other.taskId);
    expect(order.filter((id) => id !== other.taskId)).toHaveLength(PER_USER_IN_FLIGHT);

    const fresh = stubFor();
    await fresh.pause();
    await fresh.enqueue([...flood.map((f) => ({ ...f, taskId: f.taskId + 10_000 })), { ...other, taskId: other.taskId + 10_000 }]);
    await fresh.resume();
    // Both users start at zero: the older task first, then the other user's, then the flood.
    expect((await dispatchedInOrder(fresh)).slice(0, 2)).toEqual([flood[0]!.taskId + 10_000, other.taskId + 10_000]);
  });

  it('ages waiting tasks one level per AGING_MS, so low eventually goes first', async () => {
    const stub = stubFor();
    await stub.pause();
    const now = Date.now();
    const oldLow = item(20, 'low', now - 3 * AGING_MS - 1000);
    const critical = item(20, 'critical', now);
    const agedLow = item(21, 'low', now - AGING_MS - 1000);
    const high = item(21, 'high', now);
    const normal = item(21, 'normal', now);
    await stub.enqueue([critical, oldLow, high, normal, agedLow]);
    expect((await stub.status()).next_up).toEqual([oldLow.taskId, critical.taskId, high.taskId, agedLow.taskId, normal.taskId]);
  });

  it('keeps at most GLOBAL_IN_FLIGHT in flight, and holds delayed tasks until due', async () => {
    const stub = stubFor();
    const many = Array.from({ length: 15 }, (_, u) => Array.from({ length: 5 }, () => item(100 + u, 'normal'))).flat();
    const later = item(200, 'critical', Date.now() + 3_600_000);
    await stub.enqueue([...many, later]);
    const status = await stub.status();
    expect(status.in_flight).toBe(GLOBAL_IN_FLIGHT);
    expect(status.ready).toBe(many.length + 1 - GLOBAL_IN_FLIGHT);
    expect(await dispatchedInOrder(stub)).not.toContain(later.taskId);
    const alarm = await runInDurableObject(stub, (_, state) => state.storage.getAlarm());
    expect(alarm).toBe(later.eligibleAt);

    // A released slot goes to the next ready task.
    const first = (await dispatchedInOrder(stub))[0]!;
    await stub.release([first]);
    expect((await stub.status()).in_flight).toBe(GLOBAL_IN_FLIGHT);
  });
});
