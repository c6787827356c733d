/** Workflows' public module: definitions and their versions, as runs and other features read them. */
export { createWorkflow, deleteWorkflow, getWorkflow, type WorkflowDefinition, workflowForRun, workflowVersion } from './queries';
