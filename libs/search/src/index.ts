// Search and early stopping of sweeps: pure functions of the search spec, the trial index and the
// results so far. No I/O, no clock: the API (trial hand-out) and the persistence layer (rung
// decisions inside a transaction) call them, and simulations test them without training.
export * from './random-sampler.js';
export * from './tpe-sampler.js';
export * from './asha.js';
