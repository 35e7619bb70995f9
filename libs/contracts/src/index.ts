export * from './sweep-search.js';
export * from './sweep-search-view.js';
