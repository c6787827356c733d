/*
 * Search scoped per owner inside the full-text index (migration 0021): the migration rebuilds the
 * index with every document in place and each under its own owner, and a search never reaches
 * another owner's documents, whatever the words or the digits asked for.
 */
import { env } from 'cloudflare:test';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, registerAndLogin, unique } from '../helpers';

type User = { id: number; token: string };
let alice: User;
let bob: User;

async function user(prefix: string): Promise<User> {
  const r = await registerAndLogin(unique(prefix));
  return { id: r.user.id, token: r.token };
}

async function create(u: User, title: string, content: string): Promise<number> {
  const res = await api('POST', '/api/v3/documents', { token: u.token, body: { title, content } });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json.id;
}

/** Every page of a search, through the API, as the ids it returned. */
async function search(u: User, q: string, limit = 5): Promise<number[]> {
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const qs: string = `q=${encodeURIComponent(q)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await api('GET', `/api/v3/documents?${qs}`, { token: u.token });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    ids.push(...res.json.items.map((d: { id: number }) => d.id));
    cursor = res.json.next_cursor;
  } while (cursor);
  return ids;
}

const rows = async (sql: string, ...params: unknown[]) =>
  (
    await env.DB.prepare(sql)
      .bind(...params)
      .all<Record<string, unknown>>()
  ).results;

beforeAll(async () => {
  alice = await user('alice');
  bob = await user('bob');
});

describe('migration 0021 with documents in place', () => {
  it('rebuilds the index from every document, each under its owner, and changes no document', async () => {
    // The index as migration 0002 left it, with its triggers.
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0021_'));
    const before = env.TEST_MIGRATIONS.find((m) => m.name.startsWith('0002_'));
    expect(migration && before).toBeTruthy();
    for (const q of [
      'DROP TRIGGER documents_fts_insert',
      'DROP TRIGGER documents_fts_delete',
      'DROP TRIGGER documents_fts_update',
      'DROP TABLE documents_fts',
      ...before!.queries,
    ]) {
      await env.DB.prepare(q).run();
    }
    // Documents written under the old index, through its triggers, with shared words.
    const aliceIds: number[] = [];
    const bobIds: number[] = [];
    for (let i = 0; i < 12; i++) {
      aliceIds.push(await create(alice, `Orchard note ${i}`, `Pruning the pear trees, week ${i}.`));
      bobIds.push(await create(bob, `Orchard log ${i}`, `Pear harvest and pruning, day ${i}.`));
    }
    const docsBefore = await rows('SELECT id, owner_id, title, content, version FROM documents ORDER BY id');

    for (const q of migration!.queries) await env.DB.prepare(q).run();

    expect(await rows('SELECT id, owner_id, title, content, version FROM documents ORDER BY id')).toEqual(docsBefore);
    // FTS5's own check of an external-content index against its content table.
    await env.DB.prepare("INSERT INTO documents_fts(documents_fts, rank) VALUES ('integrity-check', 1)").run();
    // Every document is in the new index under its owner, and only there.
    const indexed = async (owner: number) =>
      (await rows('SELECT rowid AS id FROM documents_fts WHERE documents_fts MATCH ? ORDER BY rowid', `{owner_id} : "${owner}"`)).map(
        (r) => r.id,
      );
    for (const owner of new Set(docsBefore.map((d) => d.owner_id as number))) {
      expect(await indexed(owner)).toEqual(docsBefore.filter((d) => d.owner_id === owner).map((d) => d.id));
    }
    // The API finds each owner's documents, newest first across pages, and none of the other's.
    expect(await search(alice, 'pear pruning')).toEqual([...aliceIds].reverse());
    expect(await search(bob, 'pear pruning')).toEqual([...bobIds].reverse());
  });
});

describe('tenant isolation inside the index', () => {
  it("a probe for another owner's words, or for their user id, finds nothing", async () => {
    const word = unique('zephyrine');
    const mine = await create(alice, 'Private', `The ${word} plan, owner ${alice.id}.`);
    expect(await search(alice, word)).toEqual([mine]);
    expect(await search(bob, word)).toEqual([]);
    // The owner's id is a token of the index: searching it must not match the owner column.
    expect(await search(bob, String(alice.id))).not.toContain(mine);
    const bobsOwn = await create(bob, 'Numbers', `Nothing but ${word} here.`);
    expect(await search(bob, `${word} ${alice.id}`)).toEqual([]);
    expect(await search(bob, word)).toEqual([bobsOwn]);
  });

  it('the triggers keep the owner on edits and deletions', async () => {
    const before = unique('quartzite');
    const after = unique('basaltic');
    const id = await create(alice, 'Rocks', `A ${before} sample.`);
    const res = await api('PATCH', `/api/v3/documents/${id}`, { token: alice.token, body: { content: `A ${after} sample.` } });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    expect(await search(alice, before)).toEqual([]);
    expect(await search(alice, after)).toEqual([id]);
    expect(await search(bob, after)).toEqual([]);
    await env.DB.prepare('DELETE FROM documents WHERE id = ?').bind(id).run();
    expect(await search(alice, after)).toEqual([]);
    await env.DB.prepare("INSERT INTO documents_fts(documents_fts, rank) VALUES ('integrity-check', 1)").run();
  });
});
