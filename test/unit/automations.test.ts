import { describe, expect, it } from 'vitest';
import { conditionsHold, lookup, renderDeep, renderText, TemplateError, type Scope } from '../../src/automations/conditions';
import { betaSample, dependencies, orderByScore } from '../../src/automations/decide';
import { Action, Conditions } from '../../src/automations/schemas';
import { seededRandom } from '../../src/lib/random';

const scope = (trigger: Record<string, unknown>, outputs: unknown[] = []): Scope => ({
  trigger,
  context: { user_id: '123' },
  event: { id: 'e1' },
  actions: outputs.map((output) => ({ output })),
});

describe('automation conditions', () => {
  it('reads the seed form as equality on trigger data', () => {
    const c = { event_type: 'content_request', priority: 'high' };
    expect(conditionsHold(c, scope({ event_type: 'content_request', priority: 'high', topic: 'x' }))).toBe(true);
    expect(conditionsHold(c, scope({ event_type: 'content_request', priority: 'low' }))).toBe(false);
    expect(conditionsHold(c, scope({}))).toBe(false);
    expect(conditionsHold(undefined, scope({}))).toBe(true);
  });

  it('evaluates expressions over trigger, context and earlier outputs', () => {
    const s = scope({ priority: 'high', n: 5, tags: ['a', 'b'] }, [{ text: 'hello world' }]);
    expect(
      conditionsHold(
        {
          all: [
            { path: 'trigger.priority', op: 'eq', value: 'high' },
            { path: 'trigger.n', op: 'gte', value: 5 },
          ],
        },
        s,
      ),
    ).toBe(true);
    expect(
      conditionsHold(
        {
          any: [
            { path: 'trigger.n', op: 'gt', value: 9 },
            { path: 'context.user_id', op: 'in', value: ['1', '123'] },
          ],
        },
        s,
      ),
    ).toBe(true);
    expect(conditionsHold({ not: { path: 'trigger.tags', op: 'contains', value: 'a' } }, s)).toBe(false);
    expect(conditionsHold({ path: 'actions.0.output.text', op: 'contains', value: 'world' }, s)).toBe(true);
    expect(conditionsHold({ path: 'trigger.missing', op: 'exists' }, s)).toBe(false);
    // Ordering across types is false, never a coercion.
    expect(conditionsHold({ path: 'trigger.n', op: 'lt', value: '10' }, s)).toBe(false);
  });

  it('does not walk into prototypes', () => {
    expect(lookup({ a: {} }, 'a.constructor')).toBeUndefined();
    expect(lookup({ a: {} }, '__proto__')).toBeUndefined();
  });

  it('refuses operators it does not know and deeper trees than it documents', () => {
    expect(Conditions.safeParse({ all: [{ path: 'trigger.x', op: 'regex', value: '.*' }] }).success).toBe(false);
    let deep: unknown = { path: 'trigger.x', op: 'exists' };
    for (let i = 0; i < 6; i++) deep = { not: deep };
    expect(Conditions.safeParse(deep).success).toBe(false);
  });
});

describe('automation templates', () => {
  it('fills seed placeholders and chained references', () => {
    const s = scope({ topic: 'AI Automation' }, [{ text: 'draft' }]);
    expect(renderText('Generate content for: {topic}', s)).toBe('Generate content for: AI Automation');
    expect(renderText('Summary: {{actions.0.output.text}} {unknown} {"json": 1}', s)).toBe('Summary: draft {unknown} {"json": 1}');
    expect(renderDeep({ a: ['{{trigger.topic}}', 3] }, s)).toEqual({ a: ['AI Automation', 3] });
    expect(() => renderText('{{actions.1.output}}', s)).toThrow(TemplateError);
  });
});

describe('action choice', () => {
  const actions = [
    Action.parse({ type: 'ai_generation', parameters: { prompt_template: 'a' } }),
    Action.parse({ type: 'ai_generation', parameters: { prompt_template: 'b {{actions.0.output.text}}' } }),
    Action.parse({ type: 'ai_generation', parameters: { prompt_template: 'c' } }),
    Action.parse({ type: 'send_notification', parameters: { channel: 'in_app' } }),
  ];

  it('keeps each action after the ones it reads', () => {
    expect(dependencies(actions[1]!, 1)).toEqual([0]);
    expect(dependencies(actions[3]!, 3)).toEqual([0, 1, 2]);
    expect(orderByScore(actions, [0.1, 0.9, 0.8, 1])).toEqual([2, 0, 1, 3]);
  });

  it('samples reproducibly and favours the action with the better record', () => {
    expect(betaSample(3, 1, seededRandom(7))).toBe(betaSample(3, 1, seededRandom(7)));
    const rand = seededRandom(42);
    let wins = 0;
    for (let i = 0; i < 500; i++) if (betaSample(40, 2, rand) > betaSample(2, 40, rand)) wins++;
    expect(wins).toBeGreaterThan(490);
  });
});
