export * from './artifacts-url.js';
export * from './fleet-config.js';
export * from './redis-target.js';
export * from './startup-checks.js';
export * from './metrics-token.js';
