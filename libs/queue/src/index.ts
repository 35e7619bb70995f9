export * from './queue-names.js';
export * from './experiment-events.js';
export * from './job-options.js';
export * from './experiment-config.js';
export * from './train-job.js';
export * from './weights-source.js';
