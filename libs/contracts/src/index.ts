export * from './sweep-search.js';
