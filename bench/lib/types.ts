import type { Build } from './build';
import type { ProfileSummary } from './profile';
import type { Figure } from './stats';

/** What every scenario gets from the runner. */
export type Ctx = {
  root: string;
  reps: number;
  /** Shorter loads, for checking the harness itself; figures are still real but noisier. */
  quick: boolean;
  /** `auto`: profile our side when a target is missed; `always`; `never`. */
  profile: 'auto' | 'always' | 'never';
  /** Builds are shared: each worker is bundled once per `npm run bench`. */
  build: (name: BuildName) => Promise<Build>;
  /** Paths declared in our OpenAPI document, or null when our worker did not build or start. */
  paths: Set<string> | null;
  log: (msg: string) => void;
  freePort: () => Promise<number>;
};

export type BuildName = 'ours' | 'hello' | 'broadcast' | 'workflows' | 'queue-ack';

/** One line of the table: a figure for us, for the peer, and their ratio where both exist. */
export type Row = { metric: string; ours: Figure | null; peer: Figure | null; ratio: Figure | null; note?: string };

/** `met` is null when the scenario ran but the target could not be judged (say why in detail). */
export type Target = { text: string; met: boolean | null; detail: string };

export type Memory = { worker: string; idleMiB: number | null; loadedMiB: number | null; peakMiB: number | null; note?: string };

export type ScenarioOutcome = {
  rows: Row[];
  targets: Target[];
  memory: Memory[];
  /** Messages or tasks lost or delivered twice: anything above zero fails the run. */
  lost: number;
  profiles?: ProfileSummary[];
  notes: string[];
};

export type ScenarioResult = {
  id: number;
  slug: string;
  title: string;
  peer: string;
  target: string;
  status: 'ok' | 'not_built' | 'error';
  reason?: string;
  durationMs: number;
} & Partial<ScenarioOutcome>;

export type Scenario = {
  id: number;
  slug: string;
  title: string;
  peer: string;
  target: string;
  /** Longest the scenario may take; the runner fails it (and moves on) after this. */
  budgetMs: number;
  /** Returns why the feature under test does not exist yet, or null when it does. */
  missing: (ctx: Ctx) => string | null;
  run: (ctx: Ctx) => Promise<ScenarioOutcome>;
};

/** Thrown by a scenario that cannot measure (a setup step failed): reported as an error. */
export class ScenarioError extends Error {}
