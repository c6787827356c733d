import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/engine/heap';
import { NodeViews } from '../../src/engine/node-views';
import { render } from '../../src/engine/template';
import { newNodeRecord, type NodeRecord } from '../../src/engine/types';

/*
 * The pieces that keep a step's cost flat (src/engine/node-views.ts, heap.ts): a template context
 * is a window on the nodes at the moment it was made, reading as the copy it replaces did.
 */

const done = (rec: NodeRecord, text: string, at: number): NodeRecord =>
  Object.assign(rec, { status: 'succeeded', output: { text }, finishedAt: at });

describe('node views', () => {
  it('a window sees the nodes as they were when it was made, whatever changes after', () => {
    const a = newNodeRecord('outline');
    const b = newNodeRecord('draft');
    const views = new NodeViews([a, b]);
    views.record(done(a, 'the outline', 1));
    const before = views.window();
    views.record(done(b, 'the draft', 2));
    a.output = { text: 'edited outline' };
    a.finishedAt = 3;
    views.record(a);
    const after = views.window();

    expect(before.outline).toEqual({ output: { text: 'the outline' }, status: 'succeeded', finishedAt: 1 });
    expect(before.draft).toEqual({ output: null, status: 'pending', finishedAt: null });
    expect(after.outline?.output?.text).toBe('edited outline');
    expect(after.draft?.status).toBe('succeeded');
    const ctx = { input: {}, nodes: before, run: { id: 1, workflow_version: 1, created_at: '' } };
    expect(render('{{nodes.outline.output}} / {{nodes.draft.status}}', ctx as never)).toBe('the outline / pending');
  });

  it('reads like a plain object: keys, spread, membership, and nothing for an unknown node', () => {
    const views = new NodeViews([newNodeRecord('a'), newNodeRecord('b')]);
    const window = views.window();
    expect(Object.keys(window)).toEqual(['a', 'b']);
    expect(Object.keys({ ...window })).toEqual(['a', 'b']);
    expect('a' in window).toBe(true);
    expect('missing' in window).toBe(false);
    expect(window.missing).toBeUndefined();
    expect(JSON.parse(JSON.stringify(window))).toEqual({
      a: { output: null, status: 'pending', finishedAt: null },
      b: { output: null, status: 'pending', finishedAt: null },
    });
  });
});

describe('min-heap', () => {
  it('pops in order whatever the order of pushes', () => {
    const heap = new MinHeap<number>((x, y) => x < y);
    const values = [5, 3, 9, 1, 1, 7, 2, 8, 0, 6];
    for (const v of values) heap.push(v);
    expect(heap.peek()).toBe(0);
    const out: number[] = [];
    while (heap.size) out.push(heap.pop()!);
    expect(out).toEqual([...values].sort((x, y) => x - y));
    expect(heap.pop()).toBeUndefined();
  });
});
