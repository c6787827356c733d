/** Realtime's public module: room names and the room and hub objects, for features that publish to WebSocket subscribers. */
export { userChannel, workflowRoom } from './protocol';
export { hubStub, roomStub } from './rpc';
