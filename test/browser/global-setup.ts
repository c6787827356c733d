import type { TestProject } from 'vitest/node';
import { startLocalWorker } from './worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    consoleOrigin: string;
  }
}

/** One local Worker for every browser test file; each test signs up its own user. */
export default async function setup(project: TestProject) {
  const worker = await startLocalWorker();
  project.provide('consoleOrigin', worker.url);
  return () => worker.stop();
}
