export * from './queue-names.js';
export * from './experiment-events.js';
