/** The runs feature's public module: starting runs and reading them. The engine that drives a run is src/engine. */
export { launchRun, ownedRun } from './launch';
export { runStub } from './rpc';
export { IdempotencyHeader, RunParams, RunSchema } from './schemas';
export { publicRun } from './views';
