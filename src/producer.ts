/**
 * The BullMQ producer for backend services (`clinical-orchestrator/producer`): enqueue cases
 * straight into the `cases` queue with the same validation, idempotency and job ids as
 * `POST /v1/cases`, and what it takes to build one (the configuration and a Redis connection).
 */
export { loadConfig, type Config } from './config.js';
export { createRedis } from './queues/connection.js';
export { CaseProducer, enqueueCase, type CaseProducerOptions, type SubmitResult } from './queues/producer.js';
export { CaseValidationError, type FieldIssue } from './domain/validation.js';
export { CaseIdConflictError } from './errors.js';
