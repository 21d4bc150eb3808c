/**
 * Herald as a library: publish from your own code (inside your own transaction), or run Herald's
 * engine in-process. `herald/verify` is the receiver side.
 */
export { publish, publishEach, publishMany, MAX_BATCH_MESSAGES, type PublishInput, type PublishedMessage, type PublishOptions, type PublishOutcome } from './engine/publish.js';
export { createApplication } from './engine/applications.js';
export { createEndpoint, rotateEndpointSecret, revealEndpointSecret } from './engine/endpoints.js';
export { openHerald, type Herald, type OpenOptions } from './engine/herald.js';
export { loadConfig, type Config } from './config.js';
export { HeraldError, type ErrorCode } from './core/errors.js';
export { verifySignature } from './core/signing.js';
