export * from './artifacts-url.js';
export * from './fleet-config.js';
export * from './startup-checks.js';
