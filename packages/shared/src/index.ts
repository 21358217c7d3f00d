export * from './config.js';
export * from './event.js';
export * from './topics.js';
export * from './window.js';
export * from './page-path.js';
export * from './window-result.js';
export * from './kafka-log.js';
export * from './query-api.js';
