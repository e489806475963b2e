export type {
  AgentInit,
  Delivery,
  StopReason,
  RunResult,
  RunOutcome,
  SupervisorToWorker,
  WorkerToSupervisor,
  WorkerRequest,
  WorkerRequestKind,
  WorkerRequestBody,
  WorkerRequestOf,
  WorkerResponseOf,
  WorkerResponse,
  WorkerToParent,
  StartMessage,
} from './messages.js';
export type { ReplyEnvelope } from './envelopes.js';
