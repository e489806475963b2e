export type {
  AgentInit,
  RunContext,
  Delivery,
  StopReason,
  RunResult,
  RunOutcome,
  Ok,
  Err,
  Response,
  SupervisorToWorker,
  WorkerToSupervisor,
  WorkerRequest,
  StartMessage,
} from './messages.js';
export type { RequestEnvelope, ReplyEnvelope, ReplyError, EnvelopeId } from './envelopes.js';
export {
  CANCELLED_METHOD,
  requestEnvelope,
  notificationEnvelope,
  cancelledEnvelope,
  resultReply,
  errorReply,
  isErrorReply,
  replyResult,
} from './envelopes.js';
