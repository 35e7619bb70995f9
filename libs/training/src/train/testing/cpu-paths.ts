// The engine's two CPU paths, for specs that must hold on both: plain wasm, and wasm with the
// native oneDNN kernels. The native one is left out only where the addon is switched off on
// purpose (FLEET_NATIVE=0: the fallback CI run); a missing addon otherwise fails those specs.
/** False only where the native path is switched off on purpose (FLEET_NATIVE=0). */
export const NATIVE_ENABLED = process.env.FLEET_NATIVE !== '0';
export const CPU_PATHS = NATIVE_ENABLED ? (['wasm', 'wasm+onednn'] as const) : (['wasm'] as const);
export type CpuPath = (typeof CPU_PATHS)[number];
