import { getDb } from '../db/client';
import { monthlyStanding, quoteCall } from '../costs';
import { sendEvents } from '../lib/events';
import type { EnginePorts } from '../engine';
import { performEffect } from './effects';
import { executionDeps } from './execution';
import { launchChildRun, pollChild } from './launch';
import { runStub } from './rpc';
import { workflowRoom, roomStub } from '../realtime';

/**
 * The run engine's ports, bound to this deployment: node execution on the AI providers, run events
 * to the workflow's WebSocket room, domain events to the `dwc-events` queue, and child runs
 * through their own objects.
 */
export function runPorts(env: Env): EnginePorts {
  return {
    d1: env.DB,
    logLevel: env.LOG_LEVEL,
    execution: (o) => executionDeps(env, o),
    publish: async (workflowId, items) => {
      const room = workflowRoom(workflowId);
      await roomStub(env, room).publish(room, items);
    },
    sendEvents: (events) => sendEvents(env.EVENTS_QUEUE, events),
    children: {
      launch: (parent, nodeId, attempt, workflowId, input) => launchChildRun(env, parent, nodeId, attempt, workflowId, input),
      poll: (childRunId) => pollChild(env, childRunId),
      cancel: async (childRunId, reason) => {
        await runStub(env, childRunId).cancel(reason);
      },
      notifyParent: (parent, outcome) => runStub(env, parent.runId).childFinished(parent.nodeId, outcome),
    },
    effects: { perform: (ownerId, key, effect) => performEffect(env, ownerId, key, effect) },
    costs: {
      quote: (call, fallback) => quoteCall(env, call, fallback),
      monthly: async (ownerId, runId) => {
        const standing = await monthlyStanding(getDb(env.DB), ownerId, Date.now(), runId);
        return standing.limitUsd === null ? null : { limitUsd: standing.limitUsd, spentUsd: standing.spentUsd };
      },
    },
  };
}
